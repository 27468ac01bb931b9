package io.msm.benchmarks;

import java.util.Arrays;
import java.util.List;

/**
 * The benchmark's knobs, from system properties (the Maven profile passes {@code -Dbench.*} on),
 * each with a default that keeps a whole load run within about ten minutes on two cores.
 */
final class BenchOptions {
    final int rounds = integer("bench.rounds", 3);
    final int roundSeconds = integer("bench.roundSeconds", 6);
    final int warmupSeconds = integer("bench.warmupSeconds", 3);
    final int connections = integer("bench.connections", 32);
    final int sessions = integer("bench.sessions", 200);
    /** Comma-separated configuration keys (StandardManager is always added), or "all". */
    final String configs = text("bench.configs", "all");
    final List<String> workloads = Arrays.asList(text("bench.workloads", "read,write").split(","));
    /**
     * The open-loop rounds' rate, as a fraction of StandardManager's closed-loop throughput in the
     * same run, in percent; 0 skips them.
     */
    final int openLoopPercent = percent("bench.openLoopPercent", 50);
    /** Memory benchmark: sessions per manager. */
    final int memorySessions = integer("bench.memorySessions", 10_000);
    /** Fault run: the fixed rate of visits per second, the users, and the seconds before and after each fault. */
    final int faultRate = integer("bench.faultRate", 200);
    final int faultUsers = integer("bench.faultUsers", 200);
    final int faultWarmupSeconds = integer("bench.faultWarmupSeconds", 30);
    final int faultBeforeSeconds = integer("bench.faultBeforeSeconds", 10);
    final int faultAfterSeconds = integer("bench.faultAfterSeconds", 20);
    /** Fault run: comma-separated fault keys, or "all"; and the modes, as the load run's mode keys. */
    final String faults = text("bench.faults", "all");
    final List<String> faultModes = Arrays.asList(text("bench.faultModes", "sticky-async,sticky-sync,nonsticky-all")
            .split(","));
    /** Soak run: its length, how often a memcached node restarts empty, and how often it samples. */
    final int soakMinutes = integer("bench.soakMinutes", 120);
    final int soakRestartMinutes = integer("bench.soakRestartMinutes", 20);
    final int soakSampleSeconds = integer("bench.soakSampleSeconds", 60);
    final int soakUsers = integer("bench.soakUsers", 200);

    BenchOptions() {
        for (String w : workloads) {
            if (!w.equals("read") && !w.equals("write")) {
                throw new IllegalArgumentException("bench.workloads: '" + w + "' is not a workload; write read,write");
            }
        }
    }

    private static int percent(String name, int defaultValue) {
        return bounded(name, defaultValue, 0, 100, "a percentage from 0 to 100");
    }

    private static String text(String name, String defaultValue) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() ? defaultValue : value.trim();
    }

    private static int integer(String name, int defaultValue) {
        return bounded(name, defaultValue, 1, Integer.MAX_VALUE, "a positive whole number");
    }

    /** @throws IllegalArgumentException naming the property, when it is set and not {@code what} */
    private static int bounded(String name, int defaultValue, int min, int max, String what) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + ": '" + value + "' is not " + what);
    }
}

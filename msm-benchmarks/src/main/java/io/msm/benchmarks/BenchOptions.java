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

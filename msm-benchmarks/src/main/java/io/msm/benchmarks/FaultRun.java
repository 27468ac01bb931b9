package io.msm.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.msm.testkit.DelayingProxy;
import io.msm.testkit.MemcachedServer;

/**
 * Faults under load, one at a time, each on a fresh cluster: two Tomcat distributions behind a
 * {@link Balancer}, two memcached nodes, users visiting at a fixed rate (writes and reads in turn,
 * each answer checked for a lost session or a lost increment), and in the middle one scripted
 * fault. It prints per fault and mode what users saw before, during (the fault and the 5 s the
 * targets allow after it) and after, and whether the targets held.
 */
final class FaultRun {
    /** The seconds the targets allow for latency to come back after a fault ends. */
    private static final int SETTLE_SECONDS = 5;
    private static final String WEBAPP = "app";
    /**
     * Before each run's figures, users log in and visit as fast as the Tomcats answer, so that both
     * JITs have compiled what a long-running Tomcat has: at a modest fixed rate that takes minutes.
     */
    private final long warmupMillis;

    private final TomcatProcess.Parts parts = new TomcatProcess.Parts();
    private final double rate;
    private final int users;
    private final long beforeSeconds;
    private final int afterSeconds;
    private final List<String> modes;
    private final List<Fault> faults;

    FaultRun(BenchOptions options) {
        this.rate = options.faultRate;
        this.users = options.faultUsers;
        this.beforeSeconds = options.faultBeforeSeconds;
        this.warmupMillis = options.faultWarmupSeconds * 1000L;
        this.afterSeconds = options.faultAfterSeconds;
        this.modes = options.faultModes;
        this.faults = Fault.select(options.faults);
    }

    /** A fault with its script; {@link #run} returns when it is over (its end is the fault's end). */
    enum Fault {
        MEMCACHED_KILL("kill -9 of memcached n1 (stays down)", 0),
        MEMCACHED_PAUSE("SIGSTOP of memcached n1 for 5 s, then SIGCONT", 5),
        MEMCACHED_RESTART_EMPTY("memcached n1 restarted empty", 0),
        MEMCACHED_ROLLING_RESTART("rolling restart: n1, then n2 15 s later, each empty", 15),
        MEMCACHED_SLOW("n1's proxy adds 50 ms to each answer for 10 s", 10),
        TOMCAT_KILL("kill -9 of Tomcat t1 (stays down)", 0);

        final String description;
        final int seconds;

        Fault(String description, int seconds) {
            this.description = description;
            this.seconds = seconds;
        }

        String key() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        boolean isMemcached() {
            return this != TOMCAT_KILL;
        }

        static List<Fault> select(String keys) {
            if (keys.equals("all")) {
                return List.of(values());
            }
            List<Fault> chosen = new ArrayList<>();
            for (String k : keys.split(",")) {
                chosen.add(Arrays.stream(values()).filter(f -> f.key().equals(k.trim())).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("bench.faults: no fault '" + k + "'; choose"
                                + " from " + Arrays.stream(values()).map(Fault::key).toList())));
            }
            return chosen;
        }

        void run(MemcachedServer n1, MemcachedServer n2, DelayingProxy proxy, TomcatPair tomcats)
                throws InterruptedException {
            switch (this) {
                case MEMCACHED_KILL:
                    n1.kill();
                    break;
                case MEMCACHED_PAUSE:
                    n1.pause();
                    Thread.sleep(5_000);
                    n1.resume();
                    break;
                case MEMCACHED_RESTART_EMPTY:
                    n1.restart();
                    break;
                case MEMCACHED_ROLLING_RESTART:
                    n1.restart();
                    Thread.sleep(15_000);
                    n2.restart();
                    break;
                case MEMCACHED_SLOW:
                    proxy.delay(50);
                    Thread.sleep(10_000);
                    proxy.delay(0);
                    break;
                case TOMCAT_KILL:
                    tomcats.get(0).kill();
                    tomcats.balancer().died(0);
                    break;
                default:
                    throw new AssertionError(this);
            }
        }
    }

    /** One fault in one mode: the windows of its timeline and the heap after it. */
    record Row(Fault fault, String mode, long warmupRate, long warmupProblems, Timeline.Window before, Timeline.Window during, Timeline.Window after,
            double recoverySeconds, long heapAfterMiB) {
        Timeline.Window total() {
            Timeline.Window all = new Timeline.Window();
            all.add(before);
            all.add(during);
            all.add(after);
            return all;
        }

        /** @return what misses the targets, empty when all held */
        List<String> misses() {
            Timeline.Window t = total();
            List<String> misses = new ArrayList<>();
            if (warmupProblems > 0) {
                misses.add(warmupProblems + " problems in the warm-up, before any fault");
            }
            if (t.non2xx > 0) {
                misses.add(t.non2xx + " non-2xx");
            }
            if (t.sessionsLost > 0) {
                misses.add(t.sessionsLost + " sessions lost");
            }
            boolean asyncTomcatKill = fault == Fault.TOMCAT_KILL && mode.equals("sticky-async");
            if (t.incrementsLost > 0 && !asyncTomcatKill) {
                misses.add(t.incrementsLost + " increments lost");
            }
            if (fault.isMemcached() && t.errors > 0) {
                misses.add(t.errors + " failed requests");
            }
            if (!(recoverySeconds <= SETTLE_SECONDS)) {
                misses.add("latency back after " + (Double.isNaN(recoverySeconds) ? "never"
                        : String.format(Locale.ROOT, "%.1f s", recoverySeconds)));
            }
            return misses;
        }
    }

    int run() throws Exception {
        System.out.println("Before: " + Machine.describe());
        System.out.printf("Fault run: Tomcat %s x2 (catalina.sh run, -Xmx512m) behind a sticky balancer with failover,"
                + " memcached x2, %d users at %.0f req/s (write and read in turn), %d s before each fault, %d s after"
                + " it, after %d s of warm-up at full speed%n", parts.home.getFileName(), users, rate, beforeSeconds,
                afterSeconds, warmupMillis / 1000);
        List<Row> rows = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Fault fault : faults) {
            for (String mode : modes) {
                Row row;
                try {
                    row = scenario(fault, mode.trim());
                } catch (Exception | AssertionError e) { // the rows done so far are still printed
                    failed.add(fault.key() + ", " + mode + ": " + e);
                    System.out.println("  " + fault.key() + ", " + mode + ": FAILED " + e);
                    continue;
                }
                rows.add(row);
                System.out.printf("  %s, %s: %d requests, %s%n", fault.key(), row.mode, row.total().requests(),
                        row.misses().isEmpty() ? "targets held" : "MISSED " + row.misses());
            }
        }
        print(rows);
        System.out.println("After: " + Machine.describe());
        boolean met = failed.isEmpty() && rows.stream().allMatch(r -> r.misses().isEmpty());
        System.out.println(met ? "Every target held." : "FAILED: a target was missed (see the last column)");
        return met ? 0 : 1;
    }

    private Row scenario(Fault fault, String mode) throws Exception {
        try (MemcachedServer n1 = MemcachedServer.start(); MemcachedServer n2 = MemcachedServer.start();
                DelayingProxy proxy = DelayingProxy.start(n1.port(), 0);
                DelayingProxy proxy2 = DelayingProxy.start(n2.port(), 0)) {
            // For the slow node, both nodes sit behind a proxy: msm puts new sessions on the nodes
            // that answer its probes fastest, and a proxy on one node only would leave it without sessions.
            String nodes = fault == Fault.MEMCACHED_SLOW ? proxy.node("n1") + "," + proxy2.node("n2")
                    : n1.node("n1") + "," + n2.node("n2");
            Config.Mode m = Arrays.stream(Config.Mode.values()).filter(x -> x.key.equals(mode)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("bench.faultModes: no mode '" + mode + "'"));
            Map<String, Map<String, String>> webapps = new LinkedHashMap<>();
            webapps.put(WEBAPP, m.attributes(nodes, null));
            try (TomcatPair tomcats = TomcatPair.start(parts, webapps, 30, "-Xms512m -Xmx512m -XX:+UseG1GC")) {
                List<SimulatedUser> simulated = new ArrayList<>();
                for (int u = 0; u < users; u++) {
                    simulated.add(new SimulatedUser(u, "/" + WEBAPP, !mode.startsWith("nonsticky")));
                }
                FixedRateLoad load = new FixedRateLoad(tomcats.balancer(), simulated, simulated.size(), 0);
                Timeline warmup = new Timeline(System.nanoTime(), 1000, warmupMillis);
                load.run(warmup, Double.POSITIVE_INFINITY, warmupMillis);
                long warmupProblems = warmup.window(0, warmup.buckets()).problems();
                warmup.firstProblems().forEach(p -> System.out.println("    problem in the warm-up at " + p));
                long capacity = load.requests() * 1000 / warmupMillis;
                long faultAt = beforeSeconds * 1000L;
                long totalMillis = faultAt + fault.seconds * 1000L + afterSeconds * 1000L;
                Timeline timeline = new Timeline(System.nanoTime() + 100_000_000L, 1000, totalMillis);
                long[] faultEnd = {-1};
                Throwable[] scriptFailure = {null};
                Thread script = new Thread(() -> {
                    try {
                        Thread.sleep(Math.max(0, faultAt - (System.nanoTime() - timeline.startNanos()) / 1_000_000));
                        fault.run(n1, n2, proxy, tomcats);
                        faultEnd[0] = (System.nanoTime() - timeline.startNanos()) / 1_000_000;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (Throwable e) { // a restart that timed out: this fault's row says so
                        scriptFailure[0] = e;
                    }
                }, "fault-script");
                script.start();
                load.run(timeline, rate, totalMillis);
                script.join(60_000);
                timeline.firstProblems().forEach(p -> System.out.println("    problem at " + p));
                if (faultEnd[0] < 0) {
                    throw new IllegalStateException(fault.key() + ": the fault's script did not finish: "
                            + scriptFailure[0], scriptFailure[0]);
                }
                return row(fault, mode, capacity, warmupProblems, timeline, faultAt, faultEnd[0], totalMillis, tomcats);
            }
        }
    }

    private Row row(Fault fault, String mode, long capacity, long warmupProblems, Timeline timeline, long faultAt, long faultEnd, long totalMillis,
            TomcatPair tomcats) throws Exception {
        int faultBucket = timeline.bucketIndex(faultAt);
        int endBucket = timeline.bucketIndex(faultEnd);
        int settled = endBucket + 1 + SETTLE_SECONDS;
        int last = timeline.bucketIndex(totalMillis);
        Timeline.Window before = timeline.window(0, faultBucket);
        double level = Math.max(2 * before.p99Millis(), before.p99Millis() + 5);
        double recovery = Double.NaN;
        for (int s = last - 1; s >= endBucket; s--) {
            if (!(timeline.window(s, s + 1).p99Millis() <= level)) {
                break; // an empty second (NaN) counts as not recovered: nothing was answered
            }
            recovery = Math.max(0, s - faultEnd / 1000.0);
        }
        long heap = 0;
        for (int t = 0; t < tomcats.size(); t++) {
            if (tomcats.get(t).isAlive()) {
                heap = Math.max(heap, tomcats.stats(t, WEBAPP).getOrDefault("HeapUsedAfterGc", 0L) >> 20);
            }
        }
        return new Row(fault, mode, capacity, warmupProblems, before, timeline.window(faultBucket, settled), timeline.window(settled, last + 1),
                recovery, heap);
    }

    private void print(List<Row> rows) {
        System.out.println();
        System.out.println("| fault | mode | warm-up req/s | requests | failed | non-2xx | sessions lost | increments lost | repeated"
                + " | renamed | p50 / p99 / max ms before | during | after | latency back after | heap after | targets |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for (Row r : rows) {
            Timeline.Window t = r.total();
            System.out.printf(Locale.ROOT, "| %s | %s | %d | %d | %d | %d | %d | %d | %d | %d | %s | %s | %s | %s | %d MiB | %s |%n",
                    r.fault.description, r.mode, r.warmupRate, t.requests(), t.errors, t.non2xx, t.sessionsLost, t.incrementsLost,
                    t.incrementsRepeated, t.renamed, latency(r.before), latency(r.during), latency(r.after),
                    Double.isNaN(r.recoverySeconds) ? "never" : String.format(Locale.ROOT, "%.1f s", r.recoverySeconds),
                    r.heapAfterMiB, r.misses().isEmpty() ? "held" : "missed: " + String.join(", ", r.misses()));
        }
    }

    private static String latency(Timeline.Window w) {
        return String.format(Locale.ROOT, "%.1f / %.1f / %.0f", w.p50Millis(), w.p99Millis(), w.maxMillis());
    }
}

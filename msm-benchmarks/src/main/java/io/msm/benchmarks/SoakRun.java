package io.msm.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import io.msm.testkit.MemcachedServer;

/**
 * Hours of ordinary life: two Tomcat distributions behind a {@link Balancer}, one sticky and one
 * non-sticky webapp each, two memcached nodes, users visiting at half the capacity measured at the
 * start, logging in and leaving all the time (sessions expire a minute after their last visit),
 * and a memcached node restarted empty every few minutes. It samples each Tomcat's heap after a
 * full collection, threads, file descriptors, sessions in memory and every collection msm keeps
 * ({@code io.msm:type=HeldEntries}), and fails when one of them keeps growing, or when a user lost a
 * session or an increment. What only requests in flight hold (turns, queued backups) is not judged by
 * its growth, as a sample's forced collection piles requests up; it must drain to zero once the load
 * stops.
 */
final class SoakRun {
    private static final List<String> WEBAPPS = List.of("sticky", "nonsticky");
    /** How far the second half's median may pass the first half's before it counts as growth. */
    private static final double GROWTH = 1.25;

    private final TomcatProcess.Parts parts = new TomcatProcess.Parts();
    private final long millis;
    private final long restartMillis;
    private final long sampleMillis;
    private final int users;
    private long warmupProblems;
    private final List<String> operatorFailures = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Why the run failed, one line each; empty when it passed. */
    private final List<String> failures = new ArrayList<>();

    SoakRun(BenchOptions options) {
        this.millis = options.soakMinutes * 60_000L;
        this.restartMillis = options.soakRestartMinutes * 60_000L;
        this.sampleMillis = options.soakSampleSeconds * 1000L;
        this.users = options.soakUsers;
    }

    /** One sample: seconds since the start, and per Tomcat and webapp its figures by name. */
    record Sample(long second, Map<String, Long> figures) {
    }

    int run() throws Exception {
        System.out.println("Before: " + Machine.describe());
        try (MemcachedServer n1 = MemcachedServer.start(); MemcachedServer n2 = MemcachedServer.start()) {
            String nodes = n1.node("n1") + "," + n2.node("n2");
            Map<String, Map<String, String>> webapps = new LinkedHashMap<>();
            webapps.put("sticky", withFastExpiry(Config.Mode.STICKY_ASYNC.attributes(nodes, null)));
            webapps.put("nonsticky", withFastExpiry(Config.Mode.NON_STICKY_ALL.attributes(nodes, null)));
            try (TomcatPair tomcats = TomcatPair.start(parts, webapps, 1, "-Xms512m -Xmx512m -XX:+UseG1GC")) {
                List<SimulatedUser> simulated = new ArrayList<>();
                for (int u = 0; u < users; u++) {
                    boolean sticky = u % 2 == 0;
                    simulated.add(new SimulatedUser(u, "/" + (sticky ? "sticky" : "nonsticky"), sticky));
                }
                // A user leaves after a visit with this probability: about 20 visits a session.
                FixedRateLoad load = new FixedRateLoad(tomcats.balancer(), simulated, simulated.size(), 0.05);
                long warm = 30_000;
                Timeline warmup = new Timeline(System.nanoTime(), 1000, warm);
                load.run(warmup, Double.POSITIVE_INFINITY, warm);
                warmupProblems = warmup.window(0, warmup.buckets()).problems();
                warmup.firstProblems().forEach(p -> System.out.println("  problem in the warm-up at " + p));
                double capacity = load.requests() * 1000.0 / warm;
                double rate = capacity / 2;
                System.out.printf(Locale.ROOT, "Soak run: Tomcat %s x2 (catalina.sh run, -Xmx512m), webapps sticky"
                        + " (async) and non-sticky (lockingMode all), memcached x2, %d users, %.0f req/s (half of the"
                        + " %.0f req/s measured in %d s at full speed), %.0f min, a node restarted empty every %d min,"
                        + " a sample every %d s%n", parts.home.getFileName(), users, rate, capacity, warm / 1000, millis / 60_000.0,
                        restartMillis / 60_000, sampleMillis / 1000);
                Timeline timeline = new Timeline(System.nanoTime(), sampleMillis, millis);
                List<Sample> samples = new ArrayList<>();
                Thread operator = new Thread(() -> operate(timeline, n1, n2, tomcats, samples), "soak-operator");
                operator.setDaemon(true);
                operator.start();
                load.run(timeline, rate, millis);
                operator.interrupt();
                operator.join(60_000);
                Map<String, Long> undrained = drain(tomcats);
                return report(timeline, samples, undrained, tomcats);
            }
        }
    }

    private static Map<String, String> withFastExpiry(Map<String, String> attributes) {
        Map<String, String> a = new LinkedHashMap<>(attributes);
        a.put("processExpiresFrequency", "1"); // expiry every 10 s rather than every minute: more churn
        return a;
    }

    /**
     * Samples at every interval and restarts a node, n1 and n2 in turn, at every restart interval,
     * half a sample interval after a sample (a sample forces full collections in both Tomcats, and
     * its pause must not coincide with the fault) and never in the last sample interval. A step
     * that fails is counted and the run goes on.
     */
    private void operate(Timeline timeline, MemcachedServer n1, MemcachedServer n2, TomcatPair tomcats,
            List<Sample> samples) {
        long nextSample = sampleMillis;
        long nextRestart = restartMillis + sampleMillis / 2;
        int restarts = 0;
        while (!Thread.currentThread().isInterrupted()) {
            long now = (System.nanoTime() - timeline.startNanos()) / 1_000_000;
            try {
                if (now >= nextSample) {
                    Sample s = sample(now / 1000, tomcats);
                    synchronized (samples) {
                        samples.add(s);
                    }
                    Timeline.Window w = timeline.window(timeline.bucketIndex(now) - 1, timeline.bucketIndex(now));
                    System.out.printf(Locale.ROOT, "  %4d s: %d requests, p99 %.1f ms, heap %d / %d MiB, sessions %d /"
                            + " %d, problems %d%n", now / 1000, w.requests(), w.p99Millis(),
                            s.figures.get("t1 HeapUsedAfterGc") >> 20, s.figures.get("t2 HeapUsedAfterGc") >> 20,
                            s.figures.get("t1 sticky SessionStatistics.SessionsInMemory"),
                            s.figures.get("t2 sticky SessionStatistics.SessionsInMemory"),
                            w.problems());
                    nextSample += sampleMillis;
                }
                if (now >= nextRestart) {
                    if (now < millis - sampleMillis) {
                        MemcachedServer node = restarts++ % 2 == 0 ? n1 : n2;
                        node.restart();
                        System.out.printf("  %4d s: memcached %s restarted empty%n", now / 1000,
                                node == n1 ? "n1" : "n2");
                    }
                    nextRestart += restartMillis;
                }
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) { // an AssertionError of a restart too: the run goes on, and fails
                operatorFailures.add(now / 1000 + " s: " + e);
                System.out.println("  " + now / 1000 + " s: the soak's operator failed: " + e);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    /** @return the figures of both Tomcats, named "t1 HeapUsedAfterGc", "t1 sticky HeldEntries.NodeRepairs", ... */
    private static Sample sample(long second, TomcatPair tomcats) throws Exception {
        Map<String, Long> figures = new TreeMap<>();
        for (int t = 0; t < tomcats.size(); t++) {
            String route = TomcatPair.ROUTES.get(t);
            for (String webapp : WEBAPPS) {
                for (Map.Entry<String, Long> e : tomcats.stats(t, webapp).entrySet()) {
                    String name = e.getKey();
                    if (name.equals("HeapUsedAfterGc") || name.equals("Threads") || name.equals("FileDescriptors")) {
                        figures.putIfAbsent(route + " " + name, e.getValue()); // the JVM's, whichever webapp says it
                    } else if (watched(name)) {
                        figures.put(route + " " + webapp + " " + name, e.getValue());
                    }
                }
            }
        }
        return new Sample(second, figures);
    }

    /** The gauges a leak would make grow; counters grow by nature and are not watched. */
    private static boolean watched(String name) {
        return name.startsWith("HeldEntries.") || name.equals("SessionStatistics.SessionsInMemory")
                || name.equals("SessionStatistics.BackupQueueLength")
                || name.equals("SessionStatistics.NonStickySessionsLastMinute");
    }

    /**
     * Figures that only requests in flight or writes under way hold: bounded by the load, not by
     * time, so a leak shows as a figure that stays above zero when nothing is in flight.
     */
    /**
     * A cache with a hard cap (NearCopies: 10,000 entries) fills toward it at the speed of the run: on a
     * slow machine (CI once ran at half the usual rate) it is still filling in the first cycles and
     * looks as if it grew. Only passing its cap would be a leak; the heap figure catches the rest.
     */
    private static long cap(String name) {
        return name.endsWith("HeldEntries.NearCopies") ? 10_000 : Long.MAX_VALUE;
    }

    private static boolean inFlight(String name) {
        return name.endsWith("HeldEntries.SessionTurns") || name.endsWith("HeldEntries.BackupSlots")
                || name.endsWith("HeldEntries.NodeRepairs") || name.endsWith("HeldEntries.DeferredComparisons")
                || name.endsWith("HeldEntries.SessionsBeingRemoved") || name.endsWith("HeldEntries.PendingRemovals")
                || name.endsWith("SessionStatistics.BackupQueueLength");
    }

    /**
     * After the load stops, samples until every in-flight figure is back to zero, for at most 30 s
     * (a node repair waits for the background run, every 10 s).
     *
     * @return the in-flight figures still above zero at the end, by name; empty when all drained
     */
    private Map<String, Long> drain(TomcatPair tomcats) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        Map<String, Long> held = new TreeMap<>();
        while (true) {
            held.clear();
            try {
                sample(0, tomcats).figures.forEach((name, value) -> {
                    if (inFlight(name) && value != 0) {
                        held.put(name, value);
                    }
                });
            } catch (Exception e) {
                held.put("the sample after the load failed: " + e, -1L);
            }
            if (held.isEmpty() || System.nanoTime() > deadline) {
                return held;
            }
            Thread.sleep(1000);
        }
    }

    /** How much a figure may pass its first-half median by, besides {@link #GROWTH}: noise, not a leak. */
    private static long slack(String name) {
        if (name.endsWith("HeapUsedAfterGc")) {
            return 16L << 20;
        }
        if (name.endsWith("Threads") || name.endsWith("FileDescriptors")) {
            return 16;
        }
        return 50;
    }

    private int report(Timeline timeline, List<Sample> samples, Map<String, Long> undrained, TomcatPair tomcats) {
        Timeline.Window all = timeline.window(0, timeline.buckets());
        System.out.println();
        System.out.printf(Locale.ROOT, "| soak | requests | failed | non-2xx | sessions lost | increments lost | renamed"
                + " | p50 / p99 / max ms |%n|---|---:|---:|---:|---:|---:|---:|---:|%n| %.0f min | %d | %d | %d | %d | %d"
                + " | %d | %.1f / %.1f / %.0f |%n", millis / 60_000.0, all.requests(), all.errors, all.non2xx,
                all.sessionsLost, all.incrementsLost, all.renamed, all.p50Millis(), all.p99Millis(), all.maxMillis());
        Map<String, List<List<Long>>> halves;
        synchronized (samples) {
            halves = halves(samples);
        }
        Map<String, long[]> medians = new TreeMap<>();
        halves.forEach((name, h) -> medians.put(name, new long[] {median(h.get(0)), median(h.get(1))}));
        System.out.println();
        System.out.printf(Locale.ROOT, "| figure (median of the earlier restart cycles, then of the later ones, at the"
                + " same points of a cycle; in-flight figures: left after the load) | first | second | grew |%n"
                + "|---|---:|---:|---|%n");
        List<String> grew = new ArrayList<>();
        medians.forEach((name, p) -> {
            if (inFlight(name)) {
                Long left = undrained.get(name);
                System.out.printf("| %s | %s | %s | %s |%n", name, show(name, p[0]), show(name, p[1]),
                        left == null ? "drained" : "**" + left + " left**");
                return;
            }
            boolean growing = p[0] != Long.MIN_VALUE && p[1] != Long.MIN_VALUE
                    && (cap(name) == Long.MAX_VALUE ? p[1] > p[0] * GROWTH + slack(name) : p[1] > cap(name));
            if (growing) {
                grew.add(name);
            }
            System.out.printf("| %s | %s | %s | %s |%n", name, show(name, p[0]), show(name, p[1]),
                    growing ? "**yes**" : "no");
        });
        boolean compared = medians.values().stream().anyMatch(p -> p[0] != Long.MIN_VALUE && p[1] != Long.MIN_VALUE);
        if (!compared) {
            failures.add("too few samples to compare two halves after the warm-up");
        }
        if (!operatorFailures.isEmpty()) {
            failures.add("samples or restarts failed: " + operatorFailures);
        }
        if (!grew.isEmpty()) {
            failures.add("grew: " + grew);
        }
        if (!undrained.isEmpty()) {
            failures.add("still held 30 s after the load stopped: " + undrained);
        }
        if (all.problems() > 0) {
            failures.add("users saw " + all.problems() + " problems, the first: " + timeline.firstProblems());
        }
        if (warmupProblems > 0) {
            failures.add(warmupProblems + " problems in the first 30 s at full speed");
        }
        if (!failures.isEmpty()) {
            // CI keeps only the assertion's message: what the Tomcats logged goes into it.
            for (int i = 0; i < tomcats.size(); i++) {
                failures.add(TomcatPair.ROUTES.get(i) + " logged " + LogDigest.of(tomcats.get(i).console()));
            }
        }
        timeline.firstProblems().forEach(p -> System.out.println("  problem at " + p));
        System.out.println("After: " + Machine.describe());
        System.out.println(failures.isEmpty() ? "Nothing grew without bound and no user lost anything."
                : "FAILED: " + String.join("; ", failures));
        return failures.isEmpty() ? 0 : 1;
    }

    /** @return why the run failed, one line each; empty when it passed or has not run */
    List<String> failures() {
        return failures;
    }

    /**
     * Splits the samples after the warm-up into an earlier and a later half by restart cycle, and
     * keeps only the points of a cycle both halves have: a figure a restart moves for a while
     * (sessions renamed, copies repaired) is then compared with itself as long after a restart.
     * The warm-up is half the run up to ten minutes, a quarter of longer ones, and at least up to the
     * first restart: sessions and near copies pile up to their steady number meanwhile. Without
     * restarts, or with one cycle only after the warm-up, the rest of the run is halved in time.
     *
     * @return per figure, the values of the earlier half and of the later half
     */
    private Map<String, List<List<Long>>> halves(List<Sample> samples) {
        long firstRestart = restartMillis + sampleMillis / 2;
        long warm = millis <= 600_000 ? millis / 2 : millis / 4;
        if (restartMillis > 0 && firstRestart < millis - sampleMillis) {
            // Not before the first restart; and a short run's near copies fill up for longer than
            // that (a start at the first restart made CI's NearCopies look grown by 1.4x).
            Map<Sample, long[]> at = places(samples, Math.max(warm, firstRestart), firstRestart, restartMillis);
            long first = at.values().stream().mapToLong(c -> c[0]).min().orElse(0);
            long last = at.values().stream().mapToLong(c -> c[0]).max().orElse(0);
            if (last > first) {
                return split(samples, at, first + (last - first + 1) / 2);
            }
        }
        // No restart, or one cycle only after the warm-up: the rest of the run halved in time.
        Map<Sample, long[]> at = new java.util.IdentityHashMap<>();
        long middle = warm + (millis - warm) / 2;
        for (Sample s : samples) {
            if (s.second * 1000 >= warm) {
                at.put(s, new long[] {s.second * 1000 < middle ? 0 : 1, 0});
            }
        }
        return split(samples, at, 1);
    }

    /** @return each sample from {@code warm} on: its restart cycle, and its point in the cycle in sample intervals */
    private Map<Sample, long[]> places(List<Sample> samples, long warm, long origin, long cycleMillis) {
        Map<Sample, long[]> at = new java.util.IdentityHashMap<>();
        for (Sample s : samples) {
            long t = s.second * 1000;
            if (t >= warm) {
                at.put(s, new long[] {(t - origin) / cycleMillis, (t - origin) % cycleMillis / sampleMillis});
            }
        }
        return at;
    }

    /** @return per figure, the values of cycles before {@code split} and of the rest, at points both have */
    private static Map<String, List<List<Long>>> split(List<Sample> samples, Map<Sample, long[]> at, long split) {
        java.util.Set<Long> earlierPoints = new java.util.HashSet<>();
        java.util.Set<Long> laterPoints = new java.util.HashSet<>();
        at.values().forEach(c -> (c[0] < split ? earlierPoints : laterPoints).add(c[1]));
        earlierPoints.retainAll(laterPoints);
        Map<String, List<List<Long>>> halves = new TreeMap<>();
        for (Sample s : samples) {
            long[] c = at.get(s);
            if (c == null || !earlierPoints.contains(c[1])) {
                continue;
            }
            int half = c[0] < split ? 0 : 1;
            s.figures.forEach((name, value) -> halves.computeIfAbsent(name,
                    k -> List.of(new ArrayList<>(), new ArrayList<>())).get(half).add(value));
        }
        return halves;
    }

    private static long median(List<Long> values) {
        if (values.isEmpty()) {
            return Long.MIN_VALUE;
        }
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private static String show(String name, long value) {
        if (value == Long.MIN_VALUE) {
            return "";
        }
        return name.endsWith("HeapUsedAfterGc") ? (value >> 20) + " MiB" : Long.toString(value);
    }
}

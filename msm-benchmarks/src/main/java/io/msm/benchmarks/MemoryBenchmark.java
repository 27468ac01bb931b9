package io.msm.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import io.msm.testkit.MemcachedServer;

/**
 * Heap retained by Tomcat per 10,000 sessions holding {@link Payload}, each manager against
 * {@code StandardManager}: used heap after full collections, before and after creating the
 * sessions through HTTP requests, as users would. The payload objects alone are measured too, so
 * that what a manager adds per session shows beside what the webapp itself keeps. Measured twice:
 * after each session's first request, and again after a second one, as sessions in use have had;
 * msm keeps the serialized bytes of sessions in use only.
 */
final class MemoryBenchmark {
    private static final List<String> MANAGERS = List.of("msm-sticky-async", "msm-sticky-sync", "msm-nonsticky-none",
            "old-sticky-async");
    private static final long BACKUP_DRAIN_MILLIS = 30_000;

    private final BenchOptions options;
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();

    MemoryBenchmark(BenchOptions options) {
        this.options = options;
    }

    /** @return the process exit status */
    int run() throws IOException, InterruptedException {
        int n = options.memorySessions;
        long payloadOnly = payloadBytes(n);
        try (MemcachedServer m1 = MemcachedServer.start("-m", "512");
                MemcachedServer m2 = MemcachedServer.start("-m", "512")) {
            List<Config> configs = Config.select(m1.node("n1") + "," + m2.node("n2"), String.join(",", MANAGERS));
            try (BenchTomcat tomcat = new BenchTomcat(configs)) {
                for (Config c : configs) { // warms up class loading and the JIT; those sessions stay in "before"
                    LoadBenchmark.Sessions.create(tomcat.port(), c.path(), 200);
                }
                List<long[]> measured = new ArrayList<>();
                long drainMillis = Math.min(BACKUP_DRAIN_MILLIS, 2000 + n / 5); // asynchronous backups drain
                for (Config c : configs) {
                    long before = usedAfterGc();
                    // The ids wait in a file: a list of them on the heap would count as the manager's.
                    Path ids = Files.createTempFile("msm-memory", ".ids");
                    Files.write(ids, LoadBenchmark.Sessions.create(tomcat.port(), c.path(), n));
                    Thread.sleep(drainMillis);
                    long after = usedAfterGc();
                    readEach(tomcat.port(), c.path(), ids);
                    Files.delete(ids);
                    Thread.sleep(drainMillis);
                    long afterSecond = usedAfterGc();
                    measured.add(new long[] {after - before, tomcat.sessionsInMemory(c), afterSecond - before,
                            keepingBytes(c.path())});
                }
                System.out.println(Machine.describe());
                System.out.println();
                print(configs, measured, n, payloadOnly);
            }
        }
        return 0;
    }

    private void print(List<Config> configs, List<long[]> measured, int n, long payloadOnly) {
        double base = measured.get(0)[0];
        System.out.printf("### Heap retained per 10,000 sessions (%d created per manager; used heap after full GC)%n%n",
                n);
        double baseSecond = measured.get(0)[2];
        System.out.println("| manager | sessions in memory | MiB per 10,000 sessions | bytes per session | × StandardManager"
                + " | after a second request: bytes per session | × | sessions keeping their bytes |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        System.out.printf("| (the payload objects alone) | — | %.1f | %d | %.2f | | | |%n", mib(payloadOnly, n),
                payloadOnly / n, payloadOnly / base);
        for (int i = 0; i < configs.size(); i++) {
            long delta = measured.get(i)[0];
            long second = measured.get(i)[2];
            long keeping = measured.get(i)[3];
            System.out.printf("| %s | %d | %.1f | %d | %.2f | %d | %.2f | %s |%n", configs.get(i).label,
                    measured.get(i)[1], mib(delta, n), delta / n, delta / base, second / n, second / baseSecond,
                    keeping < 0 ? "—" : Long.toString(keeping));
        }
        System.out.println();
    }

    /** @return msm's HeldEntries gauge SessionsKeepingBytes of the webapp, or -1 where it has none */
    private static long keepingBytes(String contextPath) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            for (ObjectName name : server.queryNames(new ObjectName("io.msm:type=HeldEntries,*"), null)) {
                if (contextPath.equals(name.getKeyProperty("context"))) {
                    Object v = server.getAttribute(name, "SessionsKeepingBytes");
                    return v instanceof Number ? ((Number) v).longValue() : -1;
                }
            }
        } catch (JMException e) {
            return -1; // StandardManager, 2.3.2, non-sticky mode: no such gauge
        }
        return -1;
    }

    /** One more request to every session: its /read, as a user's next page. */
    private static void readEach(int port, String contextPath, Path ids) throws IOException {
        try (HttpConnection c = new HttpConnection(port)) {
            for (String id : Files.readAllLines(ids)) {
                HttpConnection.Response r = c.get(contextPath + "/s/read", id);
                if (r.status != 200) {
                    throw new IOException(contextPath + ": reading a session answered HTTP " + r.status);
                }
            }
        }
    }

    private static double mib(long bytes, int n) {
        return bytes * (10_000.0 / n) / (1 << 20);
    }

    /** The heap the sessions' attribute values take on their own, without any session manager. */
    private long payloadBytes(int n) throws InterruptedException {
        long before = usedAfterGc();
        List<Map<String, Object>> kept = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            kept.add(Payload.create(i));
        }
        long after = usedAfterGc();
        if (kept.size() != n) {
            throw new AssertionError("keeps the list reachable until here");
        }
        return after - before;
    }

    private long usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}

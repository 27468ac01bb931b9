package io.msm.benchmarks;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.catalina.Manager;

import io.msm.core.Statistics;
import io.msm.testkit.MemcachedServer;
import io.msm.tomcat.MemcachedSessionManager;

/**
 * The load benchmark: two real memcached nodes, one embedded Tomcat 9 with a webapp per session
 * manager, pre-created sessions holding {@link Payload}, a warm-up, then interleaved rounds
 * (A B C A B C ...) of a closed-loop load per workload, each round starting once the JVM is idle
 * again ({@link Quiet}). Prints one table per workload with every
 * figure also as a ratio to {@code StandardManager} of the same run.
 *
 * <p>It refuses to report, with exit status 1, when {@code StandardManager} or one of our
 * configurations had a failed request, a non-2xx answer or a lost session (one that was missing
 * or came back under a new id). msm 2.3.2 is the reference being compared against: its failures
 * are shown in the table as figures.
 */
final class LoadBenchmark {
    private final BenchOptions options;

    LoadBenchmark(BenchOptions options) {
        this.options = options;
    }

    /** @return the process exit status */
    int run() throws IOException, InterruptedException {
        try (MemcachedServer m1 = MemcachedServer.start("-m", "256");
                MemcachedServer m2 = MemcachedServer.start("-m", "256")) {
            String nodes = m1.node("n1") + "," + m2.node("n2");
            List<Config> configs = Config.select(nodes, options.configs);
            try (BenchTomcat tomcat = new BenchTomcat(configs)) {
                return measure(tomcat, configs);
            }
        }
    }

    private int measure(BenchTomcat tomcat, List<Config> configs) throws IOException, InterruptedException {
        Map<Config, CookieJar> sessions = new LinkedHashMap<>();
        for (Config c : configs) {
            sessions.put(c, new CookieJar(Sessions.create(tomcat.port(), c.path(), options.sessions)));
        }
        System.out.printf("%d configurations, %d sessions each, %d connections; warm-up %d s, %d rounds of %d s%n",
                configs.size(), options.sessions, options.connections, options.warmupSeconds, options.rounds,
                options.roundSeconds);
        System.out.println("Before: " + Machine.describe());
        LoadGenerator generator = new LoadGenerator(tomcat.port(), options.connections);
        Results results = new Results(configs, options.workloads);
        for (String workload : options.workloads) {
            for (Config c : configs) {
                long settled = Quiet.await();
                RoundResult r = generator.run(c.path() + "/s/" + workload, sessions.get(c), options.warmupSeconds * 1000L);
                results.addWarmUp(c, workload, r);
                System.out.printf("warm-up %-5s %-28s %s  (idle after %.1f s)%n", workload, c.label, r, settled / 1000.0);
            }
        }
        for (int round = 1; round <= options.rounds; round++) {
            for (String workload : options.workloads) {
                for (Config c : configs) {
                    long settled = Quiet.await();
                    Map<Statistics.Counter, Long> before = counters(tomcat.manager(c));
                    RoundResult r = generator.run(c.path() + "/s/" + workload, sessions.get(c),
                            options.roundSeconds * 1000L);
                    results.add(c, workload, r, delta(before, counters(tomcat.manager(c))));
                    System.out.printf("round %d %-5s %-28s %s  (idle after %.1f s)%n", round, workload, c.label, r,
                            settled / 1000.0);
                }
            }
        }
        if (options.openLoopPercent > 0) {
            OpenLoopGenerator open = new OpenLoopGenerator(tomcat.port(), 2 * options.connections);
            for (int round = 1; round <= Math.max(1, options.rounds / 2); round++) {
                for (String workload : options.workloads) {
                    double rate = results.baselineRate(workload) * options.openLoopPercent / 100.0;
                    for (Config c : configs) {
                        long settled = Quiet.await();
                        OpenLoopResult r = open.run(c.path() + "/s/" + workload, sessions.get(c), rate,
                                options.roundSeconds * 1000L);
                        results.addOpenLoop(c, workload, r);
                        System.out.printf("open loop %d %-5s %-28s %s  (idle after %.1f s)%n", round, workload, c.label, r,
                                settled / 1000.0);
                    }
                }
            }
        }
        System.out.println();
        System.out.println("After: " + Machine.describe());
        System.out.println();
        return results.report(System.out);
    }

    private static Map<Statistics.Counter, Long> counters(Manager manager) {
        Map<Statistics.Counter, Long> values = new LinkedHashMap<>();
        if (manager instanceof MemcachedSessionManager) {
            Statistics s = ((MemcachedSessionManager) manager).getStatistics();
            if (s != null) {
                for (Statistics.Counter c : Statistics.Counter.values()) {
                    values.put(c, s.get(c));
                }
            }
        }
        return values;
    }

    private static Map<Statistics.Counter, Long> delta(Map<Statistics.Counter, Long> before,
            Map<Statistics.Counter, Long> after) {
        Map<Statistics.Counter, Long> d = new LinkedHashMap<>();
        after.forEach((k, v) -> d.put(k, v - before.getOrDefault(k, 0L)));
        return d;
    }

    /** Pre-creates sessions through the webapp itself, as users' first requests would. */
    static final class Sessions {
        private Sessions() {
        }

        static List<String> create(int port, String contextPath, int count) throws IOException {
            List<String> ids = new ArrayList<>(count);
            try (HttpConnection c = new HttpConnection(port)) {
                for (int i = 0; i < count; i++) {
                    HttpConnection.Response r = c.get(contextPath + "/s/create?n=" + i, null);
                    if (r.status != 200 || r.newSessionId == null || !r.newSessionId.equals(r.body)) {
                        throw new IOException(contextPath + ": creating session " + i + " answered HTTP " + r.status
                                + " with cookie " + r.newSessionId + " and body '" + r.body + "'");
                    }
                    ids.add(r.newSessionId);
                }
            }
            return ids;
        }
    }
}

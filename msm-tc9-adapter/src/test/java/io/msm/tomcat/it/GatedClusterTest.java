package io.msm.tomcat.it;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.AfterEach;

import io.msm.testkit.Await;

/**
 * A cluster test whose requests wait at {@link SessionServlet}'s gates, sent from {@link #pool}.
 * Each gate a test names goes into {@link #gates}, so that a failed test leaves no request waiting
 * in a Tomcat about to stop (this runs before {@link ClusterTest} stops them).
 */
abstract class GatedClusterTest extends ClusterTest {
    final ExecutorService pool = Executors.newCachedThreadPool();
    final List<String> gates = new ArrayList<>();

    /** @return a new gate, opened after the test whatever happens */
    String gate() {
        String name = UUID.randomUUID().toString();
        gates.add(name);
        return name;
    }

    static void awaitArrivals(String gate, int requests) {
        Await.until(requests + " request(s) waiting at the gate", WAIT,
                () -> SessionServlet.gate(gate).arrived.get() >= requests);
    }

    static void open(String gate) {
        SessionServlet.gate(gate).open.countDown();
    }

    /** A request that passed its gate by timeout no longer overlapped what the test built: the test fails. */
    @AfterEach
    void openGatesAndStopClients() {
        gates.forEach(g -> SessionServlet.gate(g).open.countDown());
        pool.shutdownNow();
        for (String g : gates) {
            int timedOut = SessionServlet.gate(g).timedOut.get();
            if (timedOut > 0) {
                throw new AssertionError(timedOut + " request(s) went on because their gate's wait ran out, not"
                        + " because the test opened it");
            }
        }
    }
}

package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.msm.testkit.Await;
import io.msm.testkit.DelayingProxy;
import io.msm.testkit.MemcachedServer;

/**
 * A firewall between Tomcat and memcached forgets its state: the open connection goes silent without
 * closing, while a new one would work at once. The kernel gives such a connection up only after
 * minutes of retransmissions; the node must come back long before.
 */
class SilentConnectionIT {

    @Test
    void aNodeWhoseConnectionWentSilentIsReconnectedAndUsedAgainWithinSeconds() throws Exception {
        try (MemcachedServer server = MemcachedServer.start();
                DelayingProxy firewall = DelayingProxy.start(server.port(), 0)) {
            Settings settings = Settings.parse(Map.of("memcachedNodes", firewall.node("n1"),
                    "sessionBackupAsync", "false"));
            SessionEngine engine = SessionEngine.start(settings, new SessionEngineIT.StringMapTranscoder(), List.of(),
                    "silent_", "silent", Clock.systemUTC());
            try {
                Await.until("n1 up", Duration.ofSeconds(10), () -> NodeProbe.up(engine, "n1"));
                firewall.blackhole();
                Await.until("n1 marked down once its probes go unanswered", Duration.ofSeconds(10),
                        () -> !NodeProbe.up(engine, "n1"));
                long down = System.nanoTime();
                // What users need: a session stored there again. Probes unanswered for 10 s while a new
                // connection answers, then a new connection.
                Await.until("a session stored on n1 again, over a new connection", Duration.ofSeconds(30),
                        () -> NodeProbe.storesANewSession(engine, server, "silent_"));
                long seconds = (System.nanoTime() - down) / 1_000_000_000L;
                assertTrue(seconds < 30, "back after " + seconds + " s");
                assertTrue(server.isRunning());
            } finally {
                engine.close();
            }
        }
    }
}

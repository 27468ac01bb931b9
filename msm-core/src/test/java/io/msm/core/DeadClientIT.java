package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import io.msm.shaded.net.spy.memcached.ConnectionObserver;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * The client's IO thread dies of an error it does not catch (the heap full while it sized a value's
 * buffer), its socket still open: the client still says it is connected, and every operation only
 * waits for its timeout. A node that answers must be used again within seconds, not after a restart.
 */
class DeadClientIT {

    @Test
    void aNodeWhoseClientsIoThreadDiedGetsANewClientAndIsUsedAgain() throws Exception {
        try (MemcachedServer server = MemcachedServer.start()) {
            Settings settings = Settings.parse(Map.of("memcachedNodes", server.node("n1"),
                    "sessionBackupAsync", "false"));
            SessionEngineIT.StringMapTranscoder transcoder = new SessionEngineIT.StringMapTranscoder();
            SpymemcachedStore spy = new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM);
            EngineEnvironment env = new EngineEnvironment(PartedStore.reading(spy, transcoder.maxContentBytes()),
                    Clock.systemUTC(), Ticker.SYSTEM, EngineThreads.backupPool(2, 100, "dead-backup"),
                    EngineThreads.single("dead-health"), null, "dead");
            SessionEngine engine = SessionEngine.start(settings, transcoder, List.of(), "dead_",
                    SessionEngine.DEFAULT_RANDOM_LENGTH, env);
            try {
                Await.until("n1 up", Duration.ofSeconds(10), () -> NodeProbe.up(engine, "n1"));
                AtomicBoolean armed = new AtomicBoolean(); // armed once added: adding tells of the connection at once
                spy.clientOf("n1").addObserver(new ConnectionObserver() {
                    @Override
                    public void connectionEstablished(SocketAddress sa, int reconnectCount) {
                        if (armed.getAndSet(false)) {
                            // As an assertion of the client's with -ea; the fork would end on an OutOfMemoryError.
                            throw new AssertionError("test: an error on the client's IO thread");
                        }
                    }

                    @Override
                    public void connectionLost(SocketAddress sa) {
                    }
                });
                armed.set(true);
                ConnectedClient first = (ConnectedClient) spy.clientOf("n1");
                server.restart(); // the client reconnects, and its IO thread dies of the observer's error
                Await.until("the client whose IO thread died replaced", Duration.ofSeconds(15),
                        () -> spy.clientOf("n1") != first);
                long died = System.nanoTime();
                Await.until("a session stored on n1 again", Duration.ofSeconds(30),
                        () -> NodeProbe.storesANewSession(engine, server, "dead_"));
                long seconds = (System.nanoTime() - died) / 1_000_000_000L;
                assertTrue(seconds < 30, "back after " + seconds + " s");
            } finally {
                engine.close();
            }
        }
    }
}

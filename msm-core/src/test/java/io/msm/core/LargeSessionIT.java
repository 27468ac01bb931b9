package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.msm.testkit.Await;
import io.msm.testkit.DelayingProxy;
import io.msm.testkit.MemcachedServer;

/**
 * One user's large session, read over a link slower than a megabyte per operationTimeout (another
 * site, a busy network), against real memcached behind a proxy that delays each chunk of its
 * answers: its read must not time out, and its user keeps the session. (While the answer arrives,
 * the node's one connection carries nothing else: the health check's probe may time out meanwhile.)
 */
class LargeSessionIT {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private MemcachedServer memcached;
    private DelayingProxy link;
    private SessionEngine engine;

    @AfterEach
    void stop() {
        try {
            if (engine != null) {
                engine.close();
            }
        } finally {
            if (link != null) {
                link.close();
            }
            memcached.close();
        }
    }

    @Test
    void aLargeSessionReadOverASlowLinkLoads() throws Exception {
        memcached = MemcachedServer.start();
        link = DelayingProxy.start(memcached.port(), 0);
        engine = SessionEngine.start(Settings.parse(Map.of("memcachedNodes", link.node("n1"),
                "sessionBackupAsync", "false", "operationTimeout", "1000")), new SessionEngineIT.StringMapTranscoder(),
                List.of(), "test_", "test", Clock.systemUTC());
        Await.until("the node up", WAIT, () -> engine.nodeStatus().stream().allMatch(NodeStatus::up));
        SessionId id = SessionId.parse(engine.newSessionId(UUID.randomUUID().toString().replace("-", "")
                .toUpperCase(), "tomcat1"));
        Map<String, Object> attributes = new LinkedHashMap<>();
        char[] text = new char[60_000];
        for (int i = 0; i < 60; i++) { // 3.6 MB: four parts
            Arrays.fill(text, (char) ('a' + i % 26));
            attributes.put("scan" + i, new String(text));
        }
        engine.sticky().afterRequest(new SessionSnapshot(id, System.currentTimeMillis(), System.currentTimeMillis(),
                1800, null, new SessionContent(attributes, null)), new SessionState());

        link.delay(25); // per chunk of at most 64 KB: more than a second for the session's parts
        long start = System.nanoTime();
        SessionSnapshot loaded = engine.sticky().load(id, new SessionState());
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertNotNull(loaded, "read in " + millis + " ms");
        assertEquals(attributes, loaded.content().attributes());
        assertTrue(millis > 1000, "the link is slower than one operation's timeout: " + millis + " ms");
        assertEquals(0, engine.statistics().get(Statistics.Counter.LOAD_FAILURES));
    }
}

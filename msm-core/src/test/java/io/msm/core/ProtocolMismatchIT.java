package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.msm.testkit.MemcachedServer;

/**
 * A node that speaks only the text protocol (memcached -B ascii; proxies such as mcrouter) leaves a
 * binary request unanswered: to the client it only hangs. The check of a failing node names the cause
 * and the attribute to write.
 */
class ProtocolMismatchIT {

    @Test
    void aTextOnlyNodeAskedInBinaryIsDiagnosedWithTheAttributeToWrite() throws Exception {
        try (MemcachedServer textOnly = MemcachedServer.start("-B", "ascii")) {
            String binary = problem(textOnly, Map.of());
            assertTrue(binary != null && binary.contains("memcachedProtocol=\"text\"")
                    && binary.contains("not the binary one"), String.valueOf(binary));
            assertNull(problem(textOnly, Map.of("memcachedProtocol", "text")), "text works there");
        }
        try (MemcachedServer both = MemcachedServer.start()) {
            assertNull(problem(both, Map.of()), "a node that speaks binary has no problem");
            both.pause(); // hung: it answers neither protocol, and is no text-only node
            try {
                assertNull(problem(both, Map.of()), "a hung node is an ordinary failure");
            } finally {
                both.resume();
            }
        }
    }

    private static String problem(MemcachedServer server, Map<String, String> attributes) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(attributes);
        all.put("memcachedNodes", server.node("n1"));
        Settings settings = Settings.parse(all);
        SpymemcachedStore store = new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM);
        try {
            return store.problemReportedBy("n1");
        } finally {
            store.close();
        }
    }
}

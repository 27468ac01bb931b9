package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.msm.testkit.MemcachedServer;

/** What the health check reads from a real memcached's {@code stats}: its evictions and its clock. */
class NodeStatisticsIT {
    @Test
    void aNodesEvictionsAndClockAreRead() throws Exception {
        try (MemcachedServer server = MemcachedServer.start()) {
            Settings settings = Settings.parse(Map.of("memcachedNodes", server.node("n1")));
            SpymemcachedStore store = new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM);
            try {
                store.awaitConnections(5000);
                NodeStatistics read = store.statistics("n1");
                assertTrue(read.evictions >= 0, "evictions " + read.evictions);
                long skew = Math.abs(read.timeSeconds - System.currentTimeMillis() / 1000);
                assertTrue(skew <= 5, "memcached on this host, " + skew + " s off: " + read.timeSeconds);
            } finally {
                store.close();
            }
        }
    }
}

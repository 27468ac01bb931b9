package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import org.junit.jupiter.api.Test;

import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * memcached with too little memory for the sessions evicts some, silently: msm reads each node's
 * eviction count, counts it as ITEMS_EVICTED and says so in one WARN per node a minute.
 */
class EvictionIT extends ClusterTest {
    @Test
    void evictionsAreCountedAndLogged() {
        try (MemcachedServer small1 = MemcachedServer.start("-m", "2");
                MemcachedServer small2 = MemcachedServer.start("-m", "2");
                LogCapture log = new LogCapture("io.msm")) {
            TomcatNode tomcat = tomcat("tomcat1", Map.of("memcachedNodes", small1.node("n1") + "," + small2.node("n2")));
            for (int user = 0; user < 100; user++) {
                assertEquals(200, new Browser().get(tomcat.url("/app/s/big?mb=0.05")).status());
            }
            Await.until("evictions counted", Duration.ofSeconds(30), () -> count(tomcat, Counter.ITEMS_EVICTED) > 0);
            Await.until("an eviction WARN", WAIT, () -> !evictionLines(log).isEmpty());
            List<String> lines = evictionLines(log);
            assertTrue(lines.size() <= 2, "one per node at most: " + lines);
            assertTrue(lines.get(0).contains("evicted") && lines.get(0).contains("-m"), lines.get(0));
        }
    }

    private static List<String> evictionLines(LogCapture log) {
        return log.lines(r -> r.getLevel() == Level.WARNING && String.valueOf(r.getMessage()).contains("evicted"));
    }
}

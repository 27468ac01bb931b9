package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * Non-sticky Tomcats that list memcachedNodes in different orders keep backup copies on different
 * nodes, and a failover finds none: each says so, against real memcached.
 */
class NodeListCheckIT {
    private MemcachedServer n1;
    private MemcachedServer n2;
    private SessionEngine first;
    private SessionEngine second;

    @BeforeEach
    void startMemcached() {
        n1 = MemcachedServer.start();
        n2 = MemcachedServer.start();
    }

    @AfterEach
    void stop() {
        try {
            for (SessionEngine e : new SessionEngine[] {first, second}) {
                if (e != null) {
                    e.close();
                }
            }
        } finally {
            try {
                n1.close();
            } finally {
                n2.close();
            }
        }
    }

    private SessionEngine engine(String nodes) throws Exception {
        SessionEngine e = SessionEngine.start(Settings.parse(Map.of("memcachedNodes", nodes, "sticky", "false")),
                new SessionEngineIT.StringMapTranscoder(), List.of(), "test_", "/app", Clock.systemUTC());
        Await.until("both nodes up", Duration.ofSeconds(15), () -> e.nodeStatus().stream().allMatch(NodeStatus::up));
        return e;
    }

    private long differences(SessionEngine e) {
        return e.statistics().get(Statistics.Counter.NODE_LISTS_DIFFERENT);
    }

    @Test
    void twoTomcatsListingTheNodesInAnotherOrderBothSaySo() throws Exception {
        first = engine(n1.node("n1") + "," + n2.node("n2"));
        second = engine(n2.node("n2") + "," + n1.node("n1"));
        first.checkNodeList();
        second.checkNodeList();
        first.checkNodeList();

        assertEquals(2, differences(second), "found the first's list on both nodes");
        assertEquals(2, differences(first), "and the first the second's");
    }

    @Test
    void twoTomcatsWithTheSameListAreQuiet() throws Exception {
        first = engine(n1.node("n1") + "," + n2.node("n2"));
        second = engine(n1.node("n1") + "," + n2.node("n2"));
        first.checkNodeList();
        second.checkNodeList();
        first.checkNodeList();

        assertEquals(0, differences(first));
        assertEquals(0, differences(second));
    }
}

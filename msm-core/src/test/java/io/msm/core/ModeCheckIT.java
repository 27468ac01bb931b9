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

/** A sticky Tomcat left beside non-sticky ones of the same webapp says so, and so do they, against real memcached. */
class ModeCheckIT {
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

    private SessionEngine engine(boolean sticky, String webapp) throws Exception {
        SessionEngine e = SessionEngine.start(Settings.parse(Map.of("memcachedNodes", n1.node("n1") + ","
                + n2.node("n2"), "sticky", String.valueOf(sticky))), new SessionEngineIT.StringMapTranscoder(),
                List.of(), "test_", webapp, Clock.systemUTC());
        Await.until("both nodes up", Duration.ofSeconds(15), () -> e.nodeStatus().stream().allMatch(NodeStatus::up));
        return e;
    }

    private static long differences(SessionEngine e) {
        return e.statistics().get(Statistics.Counter.MODES_DIFFERENT);
    }

    @Test
    void aStickyAndANonStickyTomcatOfOneWebappBothSaySo() throws Exception {
        first = engine(true, "/app");
        second = engine(false, "/app");
        first.checkMode();
        second.checkMode();
        first.checkMode();

        assertEquals(2, differences(second), "found the sticky one's mark on both nodes");
        assertEquals(2, differences(first), "and the sticky one the other's");
    }

    /** An operator stops a Tomcat, switches its mode and starts it again: its own mark from before is gone. */
    @Test
    void aTomcatSwitchedAndStartedAgainDoesNotFindItsOwnMark() throws Exception {
        first = engine(true, "/app");
        first.checkMode();
        first.close();
        first = null;
        second = engine(false, "/app");
        second.checkMode();
        assertEquals(0, differences(second));
    }

    @Test
    void tomcatsOfOneModeAndWebappsOfTheirOwnAreQuiet() throws Exception {
        first = engine(false, "/app");
        second = engine(false, "/app");
        SessionEngine other = engine(true, "/other");
        try {
            first.checkMode();
            second.checkMode();
            other.checkMode();
            first.checkMode();
            assertEquals(0, differences(first) + differences(second) + differences(other));
        } finally {
            other.close();
        }
    }
}

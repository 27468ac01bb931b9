package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Two non-sticky Tomcats whose wall clocks differ by 40 minutes; memcached's clock agrees with the
 * first. The second judges the session's last access, which the first wrote, by memcached's clock:
 * it neither refuses the session as expired nor destroys it for the cluster.
 */
class ClockSkewTest {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
    private static final long FORTY_MINUTES = 40 * 60_000L;

    @Test
    void aTomcatWhoseClockRunsAheadNeitherRefusesNorDestroysASessionInUse() throws Exception {
        try (EngineHarness a = EngineHarness.start("sticky", "false");
                EngineHarness ahead = a.secondTomcat(a.time.aheadBy(FORTY_MINUTES), "sticky", "false")) {
            SessionChanges changes = new SessionChanges();
            changes.attributeSet("user");
            a.engine.nonSticky().store(EngineHarness.snapshot(ID, a.time.millis(), Map.of("user", "alice")),
                    new SessionState(), changes);
            ahead.checkNodes(); // reads memcached's clock

            SessionSnapshot loaded = ahead.engine.nonSticky().open(ID, new SessionState(), false);
            assertNotNull(loaded, "a session used a moment ago is served, not refused as expired");
            assertEquals("alice", loaded.content().attributes().get("user"));

            a.time.advance(120_000);
            assertEquals(List.of(), ahead.engine.nonSticky().claimExpired(), "nor destroyed for the cluster");
            assertNotNull(a.store.peek("n1", EngineHarness.PREFIX + ID));
        }
    }

    @Test
    void nodesThatDisagreeAmongThemselvesLeaveThisClockAlone() {
        FakeTime time = new FakeTime(1_700_000_000_000L);
        Expiry expiry = new Expiry(time);
        ClockCheck check = new ClockCheck(expiry, new OncePerMinute(time));
        long nowSeconds = time.millis() / 1000;

        check.heard("n1", nowSeconds - 2400, time.millis());
        assertEquals(2400, Math.round(expiry.clockOffsetMillis() / 1000.0), "ahead of the only node heard");
        check.heard("n2", nowSeconds - 2300, time.millis());
        assertEquals(2300, Math.round(expiry.clockOffsetMillis() / 1000.0), "the nearer of two that agree");
        check.heard("n2", nowSeconds + 2300, time.millis());
        assertEquals(0, expiry.clockOffsetMillis(), "one node ahead, one behind: nothing to trust more");
        check.heard("n2", nowSeconds - 10, time.millis());
        assertEquals(0, expiry.clockOffsetMillis(), "within the tolerance of one node");
    }
}

package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * A non-sticky Tomcat whose wall clock differs from every memcached node's says so: its expiry
 * judgements of sessions other Tomcats wrote are off by as much (it changes none of them: msm cannot
 * tell which clock is right).
 */
class ClockSkewTest {
    private static final long FORTY_MINUTES = 40 * 60_000L;

    @Test
    void aTomcatWhoseClockRunsAheadOfEveryNodeWarns_oneThatAgreesDoesNot() throws Exception {
        try (EngineHarness a = EngineHarness.start("sticky", "false");
                EngineHarness ahead = a.secondTomcat(a.time.aheadBy(FORTY_MINUTES), "sticky", "false");
                JulCapture log = JulCapture.of(ClockCheck.class)) {
            a.checkNodes();
            assertEquals(List.of(), log.lines(), "memcached's clock is this Tomcat's");

            ahead.checkNodes();
            assertEquals(1, log.lines().size(), log.lines().toString());
            assertTrue(log.lines().get(0).contains("2400 s ahead of every memcached node's"), log.lines().get(0));
        }
    }

    @Test
    void nodesThatDisagreeAmongThemselvesOrOneWithinTheToleranceCountAsAgreement() {
        FakeTime time = new FakeTime(1_700_000_000_000L);
        ClockCheck check = new ClockCheck(new OncePerMinute(time));
        long nowSeconds = time.millis() / 1000;

        check.heard("n1", nowSeconds - 2400, time.millis());
        assertEquals(2400, Math.round(check.offsetFromEveryNode() / 1000.0), "ahead of the only node heard");
        check.heard("n2", nowSeconds - 2300, time.millis());
        assertEquals(2300, Math.round(check.offsetFromEveryNode() / 1000.0), "the nearer of two that agree");
        check.heard("n2", nowSeconds + 2300, time.millis());
        assertEquals(0, check.offsetFromEveryNode(), "one node ahead, one behind: nothing to say");
        check.heard("n2", nowSeconds - 10, time.millis());
        assertEquals(0, check.offsetFromEveryNode(), "within the tolerance of one node");
    }
}

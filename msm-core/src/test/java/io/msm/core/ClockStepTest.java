package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The wall clock of a Tomcat steps back (an NTP correction) while it runs: what was timed by it
 * must not wait until the clock has caught up again. (Deferred comparisons: {@link StickyOrderTest}.)
 */
class ClockStepTest {
    @Test
    void aLineLimitedToOnceAMinuteIsNotSilencedForAsLongAsTheStep() {
        FakeTime time = new FakeTime(1_700_000_000_000L);
        OncePerMinute limit = new OncePerMinute(time);
        assertTrue(limit.allow("node down"));
        assertFalse(limit.allow("node down"));

        time.stepWallClock(-3_600_000);

        assertTrue(limit.allow("node down"), "an hour of silence during the incident it reports");
        assertFalse(limit.allow("node down"), "and once a minute again from there");
    }

    @Test
    void syncBackupsStillRefreshAnUnchangedSessionsExpiryAfterTheClockSteppedBack() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sessionBackupAsync", "false")) {
            SessionId id = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", "tomcat1");
            SessionState state = new SessionState();
            SessionSnapshot read = EngineHarness.snapshot(id, tomcat.time.millis(), Map.of("user", "alice"));
            tomcat.engine.sticky().afterRequest(read, state);
            assertEquals(1, tomcat.count(Statistics.Counter.BACKUPS_STORED));

            tomcat.time.stepWallClock(-3_600_000);
            tomcat.time.advance(Expiry.refreshSeconds(read.maxInactiveInterval()) * 1000L + 1000);
            tomcat.engine.sticky().afterRequest(read, state); // a read of the unchanged session

            assertEquals(1, tomcat.count(Statistics.Counter.BACKUPS_TOUCHED),
                    "its expiry in memcached moved: a failover after its timeout minus an hour would lose it");
        }
    }
}

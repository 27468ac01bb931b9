package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * A session that never expires ({@code maxInactiveInterval} of 0 or less: its copies live in memcached
 * without an expiry) is not written at every request that leaves it unchanged: its copies need no
 * expiry pushed forward, only a touch now and then (memcached's LRU), and its last access is
 * recorded as often as a session with a timeout records it (once a minute at most).
 */
class NeverExpiringSessionTest {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
    private static final SessionId STICKY_ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", "tomcat1");

    private static SessionSnapshot neverExpiring(SessionId id, long lastAccess) {
        return new SessionSnapshot(id, 1_700_000_000_000L, lastAccess, 0, null,
                new SessionContent(Map.of("user", "alice"), null));
    }

    @Test
    void sticky_unchangedRequestsWithinAMinuteWriteNothing() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sessionBackupAsync", "false")) {
            SessionState state = new SessionState();
            tomcat.engine.sticky().afterRequest(neverExpiring(STICKY_ID, tomcat.time.millis()), state);
            long touched = tomcat.count(Statistics.Counter.BACKUPS_TOUCHED);
            for (int i = 0; i < 5; i++) {
                tomcat.time.advance(1_000);
                tomcat.engine.sticky().afterRequest(neverExpiring(STICKY_ID, tomcat.time.millis()), state);
            }
            assertEquals(touched, tomcat.count(Statistics.Counter.BACKUPS_TOUCHED));
            assertEquals(5, tomcat.count(Statistics.Counter.BACKUPS_SKIPPED_UNCHANGED));

            tomcat.time.advance(60_000);
            tomcat.engine.sticky().afterRequest(neverExpiring(STICKY_ID, tomcat.time.millis()), state);
            assertEquals(touched + 1, tomcat.count(Statistics.Counter.BACKUPS_TOUCHED), "once a minute");
        }
    }

    @Test
    void nonSticky_unchangedRequestsWithinAMinuteWriteNothing() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false")) {
            NonStickySessions nonSticky = tomcat.engine.nonSticky();
            nonSticky.store(neverExpiring(ID, tomcat.time.millis()), new SessionState(), EngineHarness.setting("user"));
            for (int i = 0; i < 5; i++) {
                tomcat.time.advance(1_000);
                SessionState state = new SessionState();
                assertNotNull(nonSticky.open(ID, state, false));
                nonSticky.store(neverExpiring(ID, tomcat.time.millis()), state, new SessionChanges());
            }
            assertEquals(5, tomcat.count(Statistics.Counter.VALIDITY_WRITES_SKIPPED));
        }
    }
}

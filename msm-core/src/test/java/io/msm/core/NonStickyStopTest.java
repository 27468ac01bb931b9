package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Non-sticky: a logout whose deletes still wait behind other backups when the webapp stops (a
 * reload during a node's hang) is not dropped with the queue: the next start of the webapp in this
 * JVM does it before it uses the nodes. Dropped, every other Tomcat served the session as logged in.
 */
class NonStickyStopTest {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
    private static final SessionId AFTER_LOGIN = SessionId.of("6F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);

    @Test
    void aLogoutStillQueuedAtAStopIsDoneByTheNextStart() throws Exception {
        EngineHarness tomcat = EngineHarness.start("sticky", "false");
        EngineHarness other = tomcat.secondTomcat("sticky", "false");
        EngineHarness next = null;
        try {
            SessionChanges changes = new SessionChanges();
            changes.attributeSet("user");
            tomcat.engine.nonSticky().store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "alice")),
                    new SessionState(), changes);
            SessionState state = new SessionState();
            assertNotNull(tomcat.engine.nonSticky().open(ID, state, true));
            tomcat.backups.hold(); // the backup threads are busy: the logout's deletes wait
            tomcat.backups.dropAtStop();
            tomcat.engine.nonSticky().removed(ID, state, 1800);
            tomcat.close(); // its backup threads stop with the logout's deletes still queued

            LeftRepairs left = tomcat.engine.leftRepairs();
            assertTrue(left.size() > 0, "the logout is handed to the next start");
            next = tomcat.secondTomcat("sticky", "false");
            next.engine.takeOver(left);
            assertNull(next.engine.nonSticky().open(ID, new SessionState(), true), "the logout holds on the next start");
            assertNull(other.engine.nonSticky().open(ID, new SessionState(), true), "and on every other Tomcat");
        } finally {
            if (next != null) {
                next.close();
            }
            other.close();
        }
    }

    /** A login gives the session a new id; the copies under the old one are deleted in the background. */
    @Test
    void theCopiesUnderTheIdFromBeforeALoginStillQueuedAtAStopAreDeletedByTheNextStart() throws Exception {
        EngineHarness tomcat = EngineHarness.start("sticky", "false");
        EngineHarness other = tomcat.secondTomcat("sticky", "false");
        EngineHarness next = null;
        try {
            SessionChanges changes = new SessionChanges();
            changes.attributeSet("user");
            SessionState state = new SessionState();
            tomcat.engine.nonSticky().store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "guest")),
                    state, changes);
            tomcat.backups.hold();
            tomcat.backups.dropAtStop();
            tomcat.engine.nonSticky().store(EngineHarness.snapshot(AFTER_LOGIN, tomcat.time.millis(),
                    Map.of("user", "alice")), state, changes);
            tomcat.close();

            LeftRepairs left = tomcat.engine.leftRepairs();
            assertTrue(left.size() > 0, "the old id's deletes are handed to the next start");
            next = tomcat.secondTomcat("sticky", "false");
            next.engine.takeOver(left);
            assertNull(other.engine.nonSticky().open(ID, new SessionState(), true), "the id from before the login is dead");
            assertNotNull(other.engine.nonSticky().open(AFTER_LOGIN, new SessionState(), true));
        } finally {
            if (next != null) {
                next.close();
            }
            other.close();
        }
    }
}

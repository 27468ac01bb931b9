package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Non-sticky: a logout whose deletes still wait behind other backups when the webapp stops (a
 * reload during a node's hang) is not dropped with the queue: the next start of the webapp in this
 * JVM does it before it uses the nodes. Dropped, every other Tomcat served the session as logged in.
 */
class NonStickyStopTest {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
    private static final SessionId AFTER_LOGIN = SessionId.of("6F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);

    private EngineHarness tomcat;
    private EngineHarness other;
    private EngineHarness next;

    @BeforeEach
    void tomcats() throws Exception {
        tomcat = EngineHarness.start("sticky", "false");
        other = tomcat.secondTomcat("sticky", "false");
    }

    @AfterEach
    void stop() {
        if (next != null) {
            next.close();
        }
        other.close(); // the stopping Tomcat closed itself
    }

    private void store(SessionId id, SessionState state, String user) {
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("user");
        tomcat.engine.nonSticky().store(EngineHarness.snapshot(id, tomcat.time.millis(), Map.of("user", user)), state,
                changes);
    }

    /** The backup threads are busy, and the stop's wait ends with what is queued still there. */
    private void busyUntilTheStop() {
        tomcat.backups.hold();
        tomcat.backups.dropAtStop();
    }

    /** The stop, then the next start of the webapp in this JVM, which takes over what it left. */
    private void stopAndStartAgain() throws Exception {
        tomcat.close();
        LeftRepairs left = tomcat.engine.leftRepairs();
        assertTrue(left.size() > 0, "what the stop dropped from the queue is handed to the next start");
        next = tomcat.secondTomcat("sticky", "false");
        next.engine.takeOver(left);
    }

    @Test
    void aLogoutStillQueuedAtAStopIsDoneByTheNextStart() throws Exception {
        store(ID, new SessionState(), "alice");
        SessionState state = new SessionState();
        assertNotNull(tomcat.engine.nonSticky().open(ID, state, true));
        busyUntilTheStop();
        tomcat.engine.nonSticky().removed(ID, state, 1800);
        stopAndStartAgain();

        assertNull(next.engine.nonSticky().open(ID, new SessionState(), true), "the logout holds on the next start");
        assertNull(other.engine.nonSticky().open(ID, new SessionState(), true), "and on every other Tomcat");
    }

    /** A login gives the session a new id; the copies under the old one are deleted in the background. */
    @Test
    void theCopiesUnderTheIdFromBeforeALoginStillQueuedAtAStopAreDeletedByTheNextStart() throws Exception {
        SessionState state = new SessionState();
        store(ID, state, "guest");
        busyUntilTheStop();
        store(AFTER_LOGIN, state, "alice");
        stopAndStartAgain();

        assertNull(other.engine.nonSticky().open(ID, new SessionState(), true), "the id from before the login is dead");
        assertNotNull(other.engine.nonSticky().open(AFTER_LOGIN, new SessionState(), true));
    }
}

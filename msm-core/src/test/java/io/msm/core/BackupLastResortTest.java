package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Non-sticky: a session's node dies (its connection is refused) while one slow operation has just
 * marked its backup node down. The backup node is still connected and holds the session's copy: the
 * user keeps the session, and a logout is still found there. On the in-memory store and fake time.
 */
class BackupLastResortTest {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);

    private EngineHarness t;

    @BeforeEach
    void start() throws Exception {
        t = EngineHarness.start("sticky", "false");
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("user");
        t.engine.nonSticky().store(EngineHarness.snapshot(ID, t.time.millis(), Map.of("user", "alice")),
                new SessionState(), changes);
        assertNotNull(t.store.peek("n2", EngineHarness.PREFIX + "backup:" + ID), "the backup copy");
    }

    @AfterEach
    void stop() {
        t.close();
    }

    /** n1 dies; one probe of n2 failed just before: n2 is out of use for a while, but connected. */
    private void n1GoneWhileN2IsMarkedDown() {
        t.store.disconnect("n1");
        t.store.fail("n2");
        t.time.advance(HealthCheck.INTERVAL_MILLIS);
        t.checkNodes();
        t.store.resume("n2");
        for (NodeStatus status : t.engine.nodeStatus()) {
            assertFalse(status.up(), status.id() + " out of use");
        }
    }

    @Test
    void aSessionWhoseNodeDiedIsReadFromItsBackupNodeMarkedDownByOneFailure() {
        n1GoneWhileN2IsMarkedDown();
        SessionSnapshot loaded = t.engine.nonSticky().open(ID, new SessionState(), false);
        assertNotNull(loaded, "the user keeps the session");
        assertEquals("alice", loaded.content().attributes().get("user"));
    }

    @Test
    void aChangeMadeMeanwhileIsWrittenToTheBackupNode() {
        n1GoneWhileN2IsMarkedDown();
        SessionState state = new SessionState();
        SessionSnapshot loaded = t.engine.nonSticky().open(ID, state, false);
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("step");
        t.engine.nonSticky().store(new SessionSnapshot(ID, loaded.creationTime(), t.time.millis(),
                loaded.maxInactiveInterval(), null, new SessionContent(Map.of("user", "alice", "step", "2"), null)),
                state, changes);
        t.engine.nonSticky().release(state);

        SessionSnapshot next = t.engine.nonSticky().open(ID, new SessionState(), false);
        assertNotNull(next);
        assertEquals("2", next.content().attributes().get("step"), "the change was not dropped");
    }

    @Test
    void aLogoutOnTheBackupNodeIsStillFound() throws Exception {
        EngineHarness other = t.secondTomcat("sticky", "false");
        try {
            other.store.disconnect("n1");
            other.engine.nonSticky().removed(ID, new SessionState(), 1800); // reaches the backup node only
        } finally {
            other.close();
        }
        n1GoneWhileN2IsMarkedDown();
        assertNull(t.engine.nonSticky().open(ID, new SessionState(), false), "logged out");
    }
}

package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Non-sticky: a backup copy whose answer outlasts {@code sessionBackupTimeout} is finished by a
 * backup thread, which then rewrites the backup node from the session's node (a newer copy may have
 * landed meanwhile). What happens between that thread's read of the node and its set decides what
 * the backup node keeps: a logout must leave no copy of the session there, and a node that restarted
 * empty must leave the one copy its users still have. On the in-memory store and fake time; two
 * harnesses are two Tomcats.
 */
class LateBackupCopyTest extends TwoNonStickyTomcats {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
    private static final String BACKUP_KEY = EngineHarness.PREFIX + "backup:" + ID;

    /** Tomcat A stores step 2; n2 answers the backup copy late, and A's backup thread finishes it later. */
    private void step2WithALateBackupCopy() {
        NonStickySessions onA = a.engine.nonSticky();
        store(onA, ID, new SessionState(), "1");
        SessionState state = new SessionState();
        assertNotNull(onA.open(ID, state, true));
        a.backups.hold();
        a.store.answerLate("n2");
        store(onA, ID, state, "2");
        onA.release(state);
        assertEquals(1, a.count(Statistics.Counter.BACKUP_WAITS_TIMED_OUT), "the request did not wait for n2");
    }

    /**
     * A copy over the part size is written by a backup thread. When every thread is busy, its write
     * still waits in the queue after {@code sessionBackupTimeout}; the job that finishes it must not
     * take its place there and wait for it, which held a backup thread forever and never wrote the copy.
     */
    @Test
    void aLargeCopyWhoseWriteStillWaitsInTheQueueIsWritten_andNoBackupThreadWaitsForever() {
        NonStickySessions onA = a.engine.nonSticky();
        store(onA, ID, new SessionState(), "1");
        SessionState state = new SessionState();
        assertNotNull(onA.open(ID, state, true));
        a.backups.hold(); // every backup thread busy
        Map<String, Object> large = new HashMap<>();
        // A copy over the part size, in values the test's transcoder takes (each under 64 KB).
        for (int i = 0; i < 20; i++) {
            large.put("part" + i, String.valueOf((char) ('a' + i)).repeat(60_000));
        }
        large.put("step", "2");
        SessionChanges changes = new SessionChanges();
        large.keySet().forEach(changes::attributeSet);
        onA.store(EngineHarness.snapshot(ID, a.time.millis(), large), state, changes);
        onA.release(state);
        assertEquals(1, a.count(Statistics.Counter.BACKUP_WAITS_TIMED_OUT), "the request did not wait for the copy");

        assertTimeoutPreemptively(Duration.ofSeconds(10), a.backups::release,
                "a backup thread waits for the write it took the place of");
        assertEquals(0, a.backups.queued());
        a.store.forget("n1"); // the session's node restarts empty: the backup copy is all its user has
        SessionSnapshot onB = b.engine.nonSticky().open(ID, new SessionState(), true);
        assertNotNull(onB, "the user keeps the session");
        assertEquals(large, onB.content().attributes(), "with the last request's change");
    }

    @Test
    void aLogoutWhileTheLateCopyIsRewrittenLeavesNoCopyOnTheBackupNode() {
        step2WithALateBackupCopy();
        // B's logout reaches memcached after A's backup thread read n1, before its set on n2 lands.
        a.store.atNextOperation("n2", () -> b.engine.nonSticky().removed(ID, new SessionState(), 1800));
        a.backups.release();

        assertNull(a.store.peek("n2", BACKUP_KEY), "no copy of a logged-out session stays in memcached");
        assertNull(b.engine.nonSticky().open(ID, new SessionState(), true), "the logout holds");
    }

    @Test
    void aNodeThatRestartsEmptyWhileTheLateCopyIsRewrittenLeavesTheCopyItsUserNeeds() {
        step2WithALateBackupCopy();
        a.store.atNextOperation("n2", () -> a.store.forget("n1")); // restarted empty between the read and the set
        a.backups.release();

        assertNotNull(a.store.peek("n2", BACKUP_KEY), "the backup copy is the session's only copy now");
        SessionSnapshot onB = b.engine.nonSticky().open(ID, new SessionState(), true);
        assertNotNull(onB, "the user keeps the session");
        assertEquals("2", onB.content().attributes().get("step"), "with the last request's change");
    }
}

package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sticky mode's orders of backups and removals of one session, made to happen on purpose: the
 * backup executor is held while requests end, then released. No sleeping, no real memcached.
 */
class StickyOrderTest {
    private EngineHarness tomcat;
    private StickySessions sticky;
    private final SessionId id = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", "tomcat1");
    private final SessionState state = new SessionState();

    @BeforeEach
    void start() throws Exception {
        tomcat = EngineHarness.start();
        sticky = tomcat.engine.sticky();
        sticky.afterRequest(snapshot("alice"), state); // stored at once: the executor is not held
        assertNotNull(stored(), "the first backup reached memcached");
    }

    @AfterEach
    void stop() {
        tomcat.close();
    }

    private SessionSnapshot snapshot(String user) {
        return EngineHarness.snapshot(id, tomcat.time.millis(), Map.of("user", user));
    }

    private Object stored() {
        byte[] bytes = tomcat.store.peek("n1", EngineHarness.PREFIX + id);
        if (bytes == null) {
            return null;
        }
        SessionSnapshot s = sticky.load(id, new SessionState());
        return s == null ? "(does not load)" : s.content().attributes().get("user");
    }

    /** The memcached client's threads hold the webapp's class loader: a reload that skips its close leaks them. */
    @Test
    void aStopWhoseLastComparisonFailsStillClosesTheMemcachedClient() throws Exception {
        EngineHarness stopping = EngineHarness.start();
        stopping.engine.sticky().compareLater(new SessionState(), () -> {
            throw new IllegalStateException("a session that fails to encode at stop");
        }, 1000);

        stopping.engine.close();

        assertTrue(stopping.store.isClosed());
    }

    /**
     * A second login while the store under the first login's id deletes the session's older ids: the
     * first login's id, just stored under and renamed from meanwhile, must stay refused until the
     * session is stored under its newest id. Its entry may or may not be seen by the deletes' walk
     * over the old ids, so several sessions are tried.
     */
    @Test
    void anIdRenamedFromWhileTheOldIdsAreDeletedStaysRefused() {
        java.util.Random random = new java.util.Random(42);
        for (int trial = 0; trial < 30; trial++) {
            SessionState s = new SessionState();
            SessionId first = id("n1", random);
            SessionId between = id("n1", random);
            SessionId loggedIn = id("n1", random);
            SessionId again = id("n1", random);
            sticky.afterRequest(EngineHarness.snapshot(first, tomcat.time.millis(), Map.of("user", "alice")), s);
            sticky.renamed(first, between, s); // renamed twice before a store: two old ids to delete
            sticky.renamed(between, loggedIn, s);
            tomcat.store.onNextDelete("n1", EngineHarness.PREFIX + between, () -> sticky.renamed(loggedIn, again, s));
            tomcat.time.advance(1000);
            sticky.afterRequest(EngineHarness.snapshot(loggedIn, tomcat.time.millis(), Map.of("user", "bob")), s);

            assertNotNull(tomcat.store.peek("n1", EngineHarness.PREFIX + loggedIn), "stored under it: trial " + trial);
            assertNull(sticky.load(loggedIn, new SessionState()), "the id from before the second login loads"
                    + " nothing: trial " + trial);
        }
    }

    private static SessionId id(String node, java.util.Random random) {
        return SessionId.of(String.format("%016X%016X", random.nextLong(), random.nextLong()), node, "tomcat1");
    }

    @Test
    void aBackupThatEndsAfterTheLogoutDoesNotBringTheSessionBack() {
        tomcat.backups.hold();
        sticky.afterRequest(snapshot("bob"), state); // a request that ended before the logout
        sticky.removed(id, state); // the logout
        sticky.afterRequest(snapshot("bob, later"), state); // a parallel request ending after it
        tomcat.backups.release();

        assertNull(tomcat.store.peek("n1", EngineHarness.PREFIX + id), "the logged-out session is gone");
        assertEquals(1, tomcat.count(Statistics.Counter.DELETES));
    }

    /**
     * A logout's answer goes out only once memcached no longer holds the session: were its Tomcat to
     * die right after that answer, another Tomcat must find nothing it would serve as logged in.
     */
    @Test
    void aLogoutInARequestReturnsOnlyOnceTheCopyIsDeleted() throws Exception {
        // Its wait bounded by a minute: a test thread held up for seconds must not end it early.
        tomcat.close();
        tomcat = EngineHarness.start("operationTimeout", "30000");
        sticky = tomcat.engine.sticky();
        SessionState state = new SessionState();
        sticky.afterRequest(snapshot("alice"), state);
        tomcat.backups.hold(); // the delete waits behind a slow backup of another request
        Thread logout = startUntil(() -> sticky.removedByRequest(id, state), Thread.State.WAITING,
                Thread.State.TIMED_WAITING);
        assertNotEquals(Thread.State.TERMINATED, logout.getState(),
                "the logout returned while memcached still held the session");
        assertNotNull(tomcat.store.peek("n1", EngineHarness.PREFIX + id));

        tomcat.backups.release();
        logout.join(10_000);

        assertFalse(logout.isAlive(), "the logout returns once the delete ran");
        assertNull(tomcat.store.peek("n1", EngineHarness.PREFIX + id));
    }

    /**
     * With {@code sessionBackupAsync="false"} a parallel request sends its set itself, holding the
     * session's backup order, and may have looked at "removed" just before the logout set it. The
     * logout's delete must come after that set, or the copy is back once the logout has answered.
     */
    @Test
    void aLogoutWaitsForASetAParallelRequestIsSending() throws InterruptedException {
        byte[] sent = tomcat.store.peek("n1", EngineHarness.PREFIX + id);
        Thread logout;
        synchronized (state.backupOrder) { // the parallel request, between its look at "removed" and its set
            logout = startUntil(() -> sticky.removedByRequest(id, state), Thread.State.BLOCKED);
            assertNotEquals(Thread.State.TERMINATED, logout.getState(),
                    "the logout deleted the session while a set of it was on its way");
            tomcat.store.put("n1", EngineHarness.PREFIX + id, sent); // the set lands
        }
        logout.join(10_000);

        assertFalse(logout.isAlive());
        assertNull(tomcat.store.peek("n1", EngineHarness.PREFIX + id), "the delete came after the set");
    }


    /** Starts a logout on its own thread; returns once it waits in one of the states, or ended (10 s at most). */
    private static Thread startUntil(Runnable logout, Thread.State... waiting) throws InterruptedException {
        Thread t = new Thread(logout, "logout");
        t.start();
        java.util.List<Thread.State> stop = new java.util.ArrayList<>(java.util.Arrays.asList(waiting));
        stop.add(Thread.State.TERMINATED);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!stop.contains(t.getState())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("after 10 s the logout is still " + t.getState() + ", not waiting in one of "
                        + stop);
            }
            Thread.sleep(1);
        }
        return t;
    }

    @Test
    void aSessionWhoseRemovalWaitsIsNotLoadedBack() {
        tomcat.backups.hold();
        sticky.removed(id, state); // expired by the request; its deletion waits behind the queue

        assertNotNull(tomcat.store.peek("n1", EngineHarness.PREFIX + id), "memcached still holds the copy");
        assertNull(sticky.load(id, new SessionState()), "yet the same request does not load it back");
        tomcat.backups.release();
        assertNull(tomcat.store.peek("n1", EngineHarness.PREFIX + id));
    }

    @Test
    void backupsWaitingForOneSessionCollapseIntoTheLatest() {
        tomcat.backups.hold();
        sticky.afterRequest(snapshot("bob"), state);
        sticky.afterRequest(snapshot("carol"), state);
        sticky.afterRequest(snapshot("dave"), state);
        assertEquals(1, tomcat.backups.queued(), "one waiting backup per session");
        tomcat.backups.release();

        assertEquals("dave", stored());
        assertEquals(2, tomcat.count(Statistics.Counter.BACKUPS_STORED), "alice, then only dave");
    }

    @Test
    void aChangeStillQueuedIsOnlyInMemory_soAStopThatDropsItKeepsTheSessionInTheJvm() {
        assertFalse(sticky.onlyInMemory(id, state, java.util.Set.of()), "alice is in memcached");
        tomcat.backups.hold();
        sticky.afterRequest(snapshot("bob"), state); // its backup waits behind a slow node

        assertTrue(sticky.onlyInMemory(id, state, java.util.Set.of()), "memcached still holds alice, not bob");
        tomcat.backups.release();
        assertFalse(sticky.onlyInMemory(id, state, java.util.Set.of()));
        assertEquals("bob", stored());
    }

    @Test
    void aRequestThatPutsBackWhatMemcachedHoldsIsWrittenWhileAnOlderChangeWaits() {
        tomcat.backups.hold();
        sticky.afterRequest(snapshot("bob"), state); // waits
        sticky.afterRequest(snapshot("alice"), state); // what memcached holds now, but not once bob lands
        tomcat.backups.release();

        assertEquals("alice", stored());
    }

    @Test
    void aChangeDeferredToTheEndOfItsWindowIsWrittenThenWithoutARequest() {
        Held session = new Held(snapshot("bob"));
        tomcat.time.advance(10); // a request right after the first backup
        sticky.requestEnded(session, true);
        assertEquals("alice", stored(), "within 100 ms of the last write the change waits");

        tomcat.time.advance(DeferredComparisons.CHANGE_WINDOW_MILLIS);
        tomcat.comparisons.runDue();

        assertEquals("bob", stored());
    }

    /**
     * The wall clock steps back an hour (NTP) after a backup: the next change is still written, not
     * once the clock has caught up with the time of the last comparison.
     */
    @Test
    void aChangeAfterTheWallClockSteppedBackIsStillWritten() {
        tomcat.time.stepWallClock(-3_600_000);
        Held session = new Held(snapshot("bob"));
        tomcat.time.advance(10);
        sticky.requestEnded(session, true);
        tomcat.time.advance(DeferredComparisons.CHANGE_WINDOW_MILLIS);
        tomcat.comparisons.runDue();

        assertEquals("bob", stored());
    }

    /** A comparison asked for while the last one's time lies in the future (the clock stepped back since). */
    @Test
    void aComparisonDeferredAfterTheWallClockSteppedBackIsDueAtTheEndOfItsWindow() {
        DeferredComparisons comparisons = new DeferredComparisons(tomcat.comparisons, new Expiry(tomcat.time));
        SessionState stepped = new SessionState();
        stepped.lastComparedMillis = tomcat.time.millis() + 3_600_000;
        stepped.changePending = true;
        boolean[] ran = {false};
        comparisons.later(stepped, () -> ran[0] = true, 0);

        tomcat.time.advance(DeferredComparisons.CHANGE_WINDOW_MILLIS);
        tomcat.comparisons.runDue();

        assertTrue(ran[0], "not an hour later");
    }

    /**
     * Asynchronous backups, on the harness's clock: a session changed by request after request within
     * one window is written once, at the window's end, with the burst's last state; a burst of reads is
     * compared once, a second after it.
     */
    @Test
    void aBurstOfChangesInOneWindowIsWrittenOnceWithItsLastState_andABurstOfReadsIsComparedOnce() {
        long stored = tomcat.count(Statistics.Counter.BACKUPS_STORED);
        Held session = new Held(snapshot("alice"));
        for (int i = 0; i < 30; i++) {
            tomcat.time.advance(2);
            session.snapshot = snapshot("burst" + i);
            sticky.requestEnded(session, true);
            tomcat.comparisons.runDue();
        }
        assertEquals(stored, tomcat.count(Statistics.Counter.BACKUPS_STORED), "nothing written inside the window");
        tomcat.time.advance(DeferredComparisons.CHANGE_WINDOW_MILLIS);
        tomcat.comparisons.runDue();
        assertEquals("burst29", stored());
        assertEquals(stored + 1, tomcat.count(Statistics.Counter.BACKUPS_STORED), "one write for the burst");

        long decisions = decisions();
        for (int i = 0; i < 10; i++) {
            tomcat.time.advance(2);
            sticky.requestEnded(session, false);
            tomcat.comparisons.runDue();
        }
        tomcat.time.advance(DeferredComparisons.IN_PLACE_CHECK_MILLIS);
        tomcat.comparisons.runDue();
        tomcat.time.advance(DeferredComparisons.IN_PLACE_CHECK_MILLIS);
        tomcat.comparisons.runDue();
        assertEquals(decisions + 1, decisions(), "ten reads, one comparison");
    }

    private long decisions() {
        return tomcat.count(Statistics.Counter.BACKUPS_STORED) + tomcat.count(Statistics.Counter.BACKUPS_TOUCHED)
                + tomcat.count(Statistics.Counter.BACKUPS_SKIPPED_UNCHANGED);
    }

    @Test
    void aDeferredComparisonOfASessionInUseWaitsUntilTheRequestLeaves() {
        Held session = new Held(snapshot("bob"));
        session.inUse = true;
        tomcat.time.advance(10);
        sticky.requestEnded(session, true);
        tomcat.time.advance(DeferredComparisons.CHANGE_WINDOW_MILLIS);
        tomcat.comparisons.runDue();
        assertEquals("alice", stored(), "put off while a request holds the session");

        session.inUse = false;
        tomcat.time.advance(DeferredComparisons.CHANGE_WINDOW_MILLIS);
        tomcat.comparisons.runDue();
        assertEquals("bob", stored());
    }

    @Test
    void aDeferredComparisonIsPutOffAtMostASecondByALongRequest() {
        Held session = new Held(snapshot("bob"));
        tomcat.time.advance(10);
        sticky.requestEnded(session, true); // the change; then an upload holds the session for minutes
        session.inUse = true;
        tomcat.time.advance(DeferredComparisons.CHANGE_WINDOW_MILLIS);
        tomcat.comparisons.runDue();
        assertEquals("alice", stored(), "put off while a request holds the session");

        for (int i = 0; i < 12; i++) {
            tomcat.time.advance(DeferredComparisons.CHANGE_WINDOW_MILLIS);
            tomcat.comparisons.runDue();
        }
        assertEquals("bob", stored(), "compared anyway: the change must not wait for the upload to end");
    }

    @Test
    void closingTheEngineWritesTheChangeOfASessionStillInUse() {
        Held session = new Held(snapshot("bob"));
        tomcat.time.advance(10);
        sticky.requestEnded(session, true);
        session.inUse = true; // a request still running while the webapp stops

        tomcat.engine.close();

        String frame = new String(tomcat.store.peek("n1", EngineHarness.PREFIX + id), StandardCharsets.ISO_8859_1);
        assertTrue(frame.contains("bob"), "the waiting change reached memcached before the engine stopped");
    }

    @Test
    void aComparisonAskedForOnceTheStopBeganRunsAtOnce() {
        DeferredComparisons comparisons = new DeferredComparisons(
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor(), new Expiry(tomcat.time));
        comparisons.flush(); // the webapp stops; a request still running ends after this
        boolean[] ran = {false};
        comparisons.later(new SessionState(), () -> ran[0] = true, DeferredComparisons.CHANGE_WINDOW_MILLIS);
        assertTrue(ran[0], "a scheduler that is shut down would never run it");
    }

    @Test
    void closingTheEngineWritesTheChangesStillWaitingForTheirWindow() {
        Held session = new Held(snapshot("bob"));
        tomcat.time.advance(10);
        sticky.requestEnded(session, true);

        tomcat.engine.close();

        String frame = new String(tomcat.store.peek("n1", EngineHarness.PREFIX + id), StandardCharsets.ISO_8859_1);
        assertTrue(frame.contains("bob"), "the waiting change reached memcached before the engine stopped");
    }

    @Test
    void aBackupToANodeThatFailsLeavesTheSessionToBeWrittenAgain() {
        tomcat.store.fail("n1");
        sticky.afterRequest(snapshot("bob"), state);
        assertFalse(state.isBackedUp(id));
        assertEquals(1, tomcat.count(Statistics.Counter.BACKUPS_FAILED));
        assertFalse(sticky.needsBackup(id, state), "nothing to do while the node is down");

        tomcat.store.resume("n1");
        tomcat.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS);
        tomcat.checkNodes();
        assertTrue(sticky.needsBackup(id, state), "the adapter's background task backs it up now");
    }

    /** What the adapter hands the engine: a session held in memory. */
    private final class Held implements HeldSession {
        /** What the live session holds now: a later request of the burst changes it. */
        volatile SessionSnapshot snapshot;
        volatile boolean inUse;

        Held(SessionSnapshot snapshot) {
            this.snapshot = snapshot;
        }

        @Override
        public SessionId sessionId() {
            return id;
        }

        @Override
        public SessionState state() {
            return state;
        }

        @Override
        public SessionSnapshot snapshot() {
            return snapshot;
        }

        @Override
        public boolean isValid() {
            return true;
        }

        @Override
        public boolean isInUse() {
            return inUse;
        }
    }
}

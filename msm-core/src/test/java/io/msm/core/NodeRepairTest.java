package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * What a node missed while it failed or hung is done there once it answers, before requests use it
 * again (NodeRepairs), and a lock wait ends at its deadline: all on the in-memory store and fake time.
 */
class NodeRepairTest {
    private static final SessionId STICKY_ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", "tomcat1");
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);

    @Test
    void aSessionRemovedWhileItsNodeFailedIsDeletedThereBeforeTheNodeServesRequestsAgain() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            StickySessions sticky = tomcat.engine.sticky();
            SessionState state = new SessionState();
            sticky.afterRequest(EngineHarness.snapshot(STICKY_ID, tomcat.time.millis(), Map.of("user", "alice")), state);
            String key = EngineHarness.PREFIX + STICKY_ID;
            assertNotNull(tomcat.store.peek("n1", key));

            tomcat.store.fail("n1");
            sticky.removed(STICKY_ID, state); // the logout; the delete cannot reach the node
            assertEquals(1, tomcat.count(Statistics.Counter.DELETE_FAILURES));
            tomcat.store.resume("n1"); // the node comes back holding the logged-out session
            assertNotNull(tomcat.store.peek("n1", key));

            tomcat.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS);
            assertNull(sticky.load(STICKY_ID, new SessionState()), "not offered to requests before its repair");
            tomcat.checkNodes();

            assertNull(tomcat.store.peek("n1", key), "the health check deleted it on the node");
            assertNull(sticky.load(STICKY_ID, new SessionState()));
            assertEquals(1, tomcat.count(Statistics.Counter.LOAD_FAILURES), "the one refused load, before the repair");
        }
    }

    /**
     * A takeover of a copy near its expiry in memcached (its Tomcat died after a while without
     * changes): the first request after it pushes the expiry forward, instead of skipping the touch
     * as it would for a copy this Tomcat had just written.
     */
    @Test
    void aStickyTakeoverPushesTheCopysExpiryForwardAtItsFirstRequest() throws Exception {
        try (EngineHarness died = EngineHarness.start()) {
            died.engine.sticky().afterRequest(EngineHarness.snapshot(STICKY_ID, died.time.millis(),
                    Map.of("user", "alice")), new SessionState());
            try (EngineHarness survivor = died.secondTomcat()) {
                StickySessions sticky = survivor.engine.sticky();
                SessionState state = new SessionState();
                SessionSnapshot taken = sticky.load(STICKY_ID, state);
                sticky.afterRequest(taken, state);
                assertEquals(1, survivor.count(Statistics.Counter.BACKUPS_TOUCHED));
            }
        }
    }

    /**
     * A takeover (the user's Tomcat died) while one failed operation took the session's node out of
     * use for a moment: the session is still read from its node, which holds it, instead of the user
     * getting a new one. A burst of takeovers is when such a failure is likeliest.
     */
    @Test
    void aStickyTakeoverWhileOneFailureTookTheNodeOutOfUseStillReadsTheSession() throws Exception {
        try (EngineHarness died = EngineHarness.start()) {
            died.engine.sticky().afterRequest(EngineHarness.snapshot(STICKY_ID, died.time.millis(),
                    Map.of("user", "alice")), new SessionState());
            try (EngineHarness survivor = died.secondTomcat()) {
                StickySessions sticky = survivor.engine.sticky();
                SessionId other = SessionId.of("0123456789ABCDEF0123456789ABCDEF", "n1", "tomcat1");
                survivor.store.fail("n1");
                assertNull(sticky.load(other, new SessionState()), "another user's takeover failed: n1 marked down");
                survivor.store.resume("n1"); // a moment's overload, over: n1 stays out of use up to 2 s

                SessionSnapshot taken = sticky.load(STICKY_ID, new SessionState());
                assertNotNull(taken, "read from its node anyway: it is connected, and no logout of it waits there");
                assertEquals("alice", taken.content().attributes().get("user"));
            }
        }
    }

    /** A node that hangs with its connection open, its probes unanswered: loads do not wait for it each. */
    @Test
    void aStickyLoadDoesNotAskANodeWhoseProbesGoUnanswered() throws Exception {
        try (EngineHarness died = EngineHarness.start()) {
            died.engine.sticky().afterRequest(EngineHarness.snapshot(STICKY_ID, died.time.millis(),
                    Map.of("user", "alice")), new SessionState());
            try (EngineHarness survivor = died.secondTomcat()) {
                survivor.store.fail("n1"); // hangs: every operation fails, the probe's too
                survivor.time.advance(HealthCheck.INTERVAL_MILLIS);
                survivor.checkNodes();
                java.util.concurrent.atomic.AtomicBoolean asked = new java.util.concurrent.atomic.AtomicBoolean();
                survivor.store.atNextOperation("n1", () -> asked.set(true));
                assertNull(survivor.engine.sticky().load(STICKY_ID, new SessionState()));
                assertFalse(asked.get(), "not asked: its probe went unanswered");
            }
        }
    }

    @Test
    void aNonStickyLoadAndStoreDoNotAskANodeWhoseProbesGoUnanswered_whileTheOtherNodeIsAway() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false")) {
            NonStickySessions nonSticky = storedThenBackupNodeAway(tomcat);
            tomcat.store.fail("n1"); // hangs: every operation fails, the probe's too
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            java.util.concurrent.atomic.AtomicBoolean asked = new java.util.concurrent.atomic.AtomicBoolean();
            tomcat.store.atNextOperation("n1", () -> asked.set(true));
            SessionState state = new SessionState();
            assertNull(nonSticky.open(ID, state, true));
            assertFalse(asked.get(), "not asked for the session: its probe went unanswered");
            SessionChanges changed = new SessionChanges();
            changed.attributeSet("user");
            nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "bob")), state, changed);
            nonSticky.release(state);
            assertFalse(asked.get(), "not asked to store it either");
        }
    }

    /**
     * The probe and its flag reads are answered, then a later step of the check fails (here the replay
     * of another session's logout): the node is out of use, but it does not hang, and the last resort
     * still asks it (a session there then goes by the backup node's markers, away here).
     */
    @Test
    void aNodeWhoseProbeWasAnsweredIsStillAskedAsALastResortAfterALaterStepOfTheCheckFailed() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false")) {
            NonStickySessions nonSticky = storedThenBackupNodeAway(tomcat);
            SessionId other = SessionId.of("6F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
            tomcat.store.fail("n1");
            nonSticky.removed(other, new SessionState(), 1800); // its deletes wait for n1
            tomcat.store.resume("n1");
            tomcat.store.failNextDelete("n1", EngineHarness.PREFIX + other);
            // The probe's read, the flag read, then the replay: a millisecond later, as on a real clock.
            tomcat.store.atOperation("n1", 3, () -> tomcat.time.advance(1));
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            assertFalse(up(tomcat, "n1"), "the failed replay keeps n1 out of use");

            java.util.concurrent.atomic.AtomicBoolean asked = new java.util.concurrent.atomic.AtomicBoolean();
            tomcat.store.atNextOperation("n1", () -> asked.set(true));
            nonSticky.open(ID, new SessionState(), true); // what it then reads is the markers' business
            assertTrue(asked.get(), "asked anyway: its probe was answered, so it does not hang");
        }
    }

    /** The probe is answered, the flag reads sent right after it are not: the node hangs as much. */
    @Test
    void aNodeThatAnswersTheProbeButNotItsFlagReadsCountsAsHung() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false")) {
            NonStickySessions nonSticky = storedThenBackupNodeAway(tomcat);
            tomcat.store.atOperation("n1", 2, () -> tomcat.store.failNext("n1", 1)); // the first flag read
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            assertFalse(up(tomcat, "n1"));
            java.util.concurrent.atomic.AtomicBoolean asked = new java.util.concurrent.atomic.AtomicBoolean();
            tomcat.store.atNextOperation("n1", () -> asked.set(true));
            assertNull(nonSticky.open(ID, new SessionState(), true));
            assertFalse(asked.get(), "not asked: it hangs");
        }
    }

    private static boolean up(EngineHarness tomcat, String node) {
        return tomcat.engine.nodeStatus().stream().filter(n -> n.id().equals(node)).findFirst().orElseThrow().up();
    }

    @Test
    void aSessionWhoseNodeOneFailureMarkedDownIsStillLoadedAndStoredWhileTheOtherNodeIsAway() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false")) {
            NonStickySessions nonSticky = tomcat.engine.nonSticky();
            SessionChanges created = new SessionChanges();
            created.attributeSet("user");
            nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "alice")),
                    new SessionState(), created);

            tomcat.store.disconnect("n2"); // the backup node is away (restarting)
            tomcat.store.fail("n1");
            assertNull(nonSticky.open(ID, new SessionState(), true), "one failed read: n1 marked down");
            tomcat.store.resume("n1"); // a moment's overload, over

            SessionState state = new SessionState();
            SessionSnapshot loaded = nonSticky.open(ID, state, true);
            assertNotNull(loaded, "read from its node anyway: no node is offered, and it is connected");
            assertEquals("alice", loaded.content().attributes().get("user"));
            SessionChanges changed = new SessionChanges();
            changed.attributeSet("user");
            nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "bob")), state, changed);
            nonSticky.release(state);
            assertEquals("bob", nonSticky.open(ID, new SessionState(), true).content().attributes().get("user"),
                    "the change was written to its node too");
        }
    }

    /** A non-sticky session stored on both nodes; then its backup node goes away (restarting). */
    private static NonStickySessions storedThenBackupNodeAway(EngineHarness tomcat) {
        NonStickySessions nonSticky = tomcat.engine.nonSticky();
        SessionChanges created = new SessionChanges();
        created.attributeSet("user");
        nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "alice")),
                new SessionState(), created);
        tomcat.store.disconnect("n2");
        return nonSticky;
    }

    @Test
    void aLogoutWhileBothNodesAreOutOfUseIsNotUndoneByAskingTheSessionsNodeAnyway() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false")) {
            NonStickySessions nonSticky = storedThenBackupNodeAway(tomcat);
            tomcat.store.fail("n1");
            assertNull(nonSticky.open(ID, new SessionState(), true), "one failed read: n1 marked down");
            tomcat.store.resume("n1"); // connected, still marked down
            SessionState state = new SessionState();
            assertNotNull(nonSticky.open(ID, state, true));
            tomcat.store.fail("n1");
            nonSticky.removed(ID, state, 1800); // the logout: its deletes cannot reach n1 and wait for it
            tomcat.store.resume("n1");

            assertNull(nonSticky.open(ID, new SessionState(), true), "the logged-out session is not read again");
        }
    }

    @Test
    void aLogoutWhoseRepairFailedOnceIsStillNotReadBackFromTheSessionsNodeAnyway() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false")) {
            NonStickySessions nonSticky = storedThenBackupNodeAway(tomcat);
            tomcat.store.fail("n1");
            SessionState state = new SessionState();
            nonSticky.removed(ID, state, 1800); // the logout: its deletes wait for n1
            tomcat.store.resume("n1");
            // The health check runs n1's repairs, and n1 fails again at the session's delete.
            tomcat.store.failNextDelete("n1", EngineHarness.PREFIX + ID);
            tomcat.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS);
            tomcat.checkNodes();
            assertNotNull(tomcat.store.peek("n1", EngineHarness.PREFIX + ID), "the delete did not reach n1");
            tomcat.store.resume("n1"); // connected, marked down, the delete still waiting

            assertNull(nonSticky.open(ID, new SessionState(), true), "the logged-out session is not read again");
        }
    }

    @Test
    void logoutsThatOutwaitTheirDeletesSayItOnceAMinuteNotOncePerLogout() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false", "operationTimeout", "100");
                JulCapture log = JulCapture.of(NonStickyWriter.class)) {
            NonStickySessions nonSticky = tomcat.engine.nonSticky();
            SessionChanges created = new SessionChanges();
            created.attributeSet("user");
            nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "alice")),
                    new SessionState(), created);
            tomcat.backups.hold(); // a backup queue that does not move: each logout's wait for its deletes runs out
            nonSticky.removed(ID, new SessionState(), 1800);
            nonSticky.removed(SessionId.of("6F4DCC3B5AA765D61D8327DEB882CF99", "n1", null), new SessionState(), 1800);

            assertEquals(1, log.lines().stream().filter(l -> l.contains("still being deleted")).count(),
                    log.lines().toString());
            tomcat.backups.release();
            assertNull(tomcat.store.peek("n1", EngineHarness.PREFIX + ID), "the deletes ran afterwards");
        }
    }

    @Test
    void changedNonStickySessionsThatNoNodeTakesAreLoggedOnceAMinuteNotOncePerRequest() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false");
                JulCapture log = JulCapture.of(NonStickyWriter.class)) {
            NonStickySessions nonSticky = tomcat.engine.nonSticky();
            tomcat.store.fail("n1");
            tomcat.store.fail("n2");
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            for (int i = 0; i < 5; i++) {
                SessionChanges changes = new SessionChanges();
                changes.attributeSet("user");
                nonSticky.store(EngineHarness.snapshot(SessionId.of(String.format("%032X", i), "n1", null),
                        tomcat.time.millis(), Map.of("user", "u" + i)), new SessionState(), changes);
            }

            assertTrue(tomcat.count(Statistics.Counter.BACKUPS_FAILED) >= 5, "each request's miss is counted");
            assertEquals(1, log.lines().stream().filter(l -> l.contains("is not stored")).count(),
                    log.lines().toString());
        }
    }

    @Test
    void backupsQueuedForANodeMarkedDownMeanwhileAreNotTriedOneByOne() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start();
                JulCapture log = JulCapture.of(StickyBackups.class)) {
            StickySessions sticky = tomcat.engine.sticky();
            tomcat.backups.hold(); // the queue of a Tomcat whose requests end faster than its backups
            List<SessionId> onN1 = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                SessionId id = SessionId.of(String.format("%032X", i), "n1", "tomcat1");
                onN1.add(id);
                sticky.afterRequest(EngineHarness.snapshot(id, tomcat.time.millis(), Map.of("user", "u" + i)),
                        new SessionState());
            }
            SessionId onN2 = SessionId.of("7F4DCC3B5AA765D61D8327DEB882CF99", "n2", "tomcat1");
            sticky.afterRequest(EngineHarness.snapshot(onN2, tomcat.time.millis(), Map.of("user", "bob")),
                    new SessionState());
            tomcat.store.hang("n1");
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes(); // n1 marked down while its backups wait

            tomcat.backups.release();
            tomcat.store.resume("n1"); // a write sent while it hung would land now

            for (SessionId id : onN1) {
                assertNull(tomcat.store.peek("n1", EngineHarness.PREFIX + id), "not sent to the node marked down");
            }
            assertNotNull(tomcat.store.peek("n2", EngineHarness.PREFIX + onN2), "the other node's session is stored");
            assertEquals(5, tomcat.count(Statistics.Counter.BACKUPS_FAILED));
            assertEquals(1, log.lines().stream().filter(l -> l.startsWith("WARNING")).count(), log.lines().toString());
        }
    }

    @Test
    void aLockAddThatTimedOutButWasAppliedIsReleasedWhenTheNodeAnswersAgain() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false", "lockingMode", "all")) {
            NonStickySessions nonSticky = tomcat.engine.nonSticky();
            SessionChanges created = new SessionChanges();
            created.attributeSet("user");
            nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "alice")),
                    new SessionState(), created);
            String lockKey = EngineHarness.PREFIX + "lock:" + ID;

            tomcat.store.hang("n1");
            SessionState state = new SessionState();
            SessionSnapshot loaded = nonSticky.open(ID, state, true); // the lock's add times out on n1
            assertNotNull(loaded, "served from the backup copy while the node hangs");
            nonSticky.release(state);
            tomcat.store.resume("n1"); // memcached applies the add it had read before it stopped
            assertNotNull(tomcat.store.peek("n1", lockKey), "a lock nobody will release");

            tomcat.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS);
            tomcat.checkNodes();

            assertNull(tomcat.store.peek("n1", lockKey), "the health check deleted it on the node");
            long sleptBefore = tomcat.time.sleptMillis();
            SessionState next = new SessionState();
            assertNotNull(nonSticky.open(ID, next, true));
            assertEquals(sleptBefore, tomcat.time.sleptMillis(), "the next request did not wait for the stale lock");
            assertEquals(0, tomcat.count(Statistics.Counter.LOCK_TIMEOUTS));
            nonSticky.release(next);
        }
    }

    @Test
    void aRequestWaitsForAnotherTomcatsLockUntilLockWaitTimeoutThenGoesOnUnlocked() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false", "lockingMode", "all",
                "lockWaitTimeout", "10000")) {
            NonStickySessions nonSticky = tomcat.engine.nonSticky();
            SessionChanges created = new SessionChanges();
            created.attributeSet("user");
            nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "alice")),
                    new SessionState(), created);
            tomcat.store.put("n1", EngineHarness.PREFIX + "lock:" + ID, "another-tomcat:1".getBytes());

            SessionState state = new SessionState();
            assertNotNull(nonSticky.open(ID, state, true));

            assertTrue(tomcat.time.sleptMillis() >= 10_000, "waited the whole lockWaitTimeout, in fake time");
            assertTrue(tomcat.time.sleptMillis() < 10_100, "and not longer: " + tomcat.time.sleptMillis());
            assertEquals(1, tomcat.count(Statistics.Counter.LOCK_WAITS));
            assertEquals(1, tomcat.count(Statistics.Counter.LOCK_TIMEOUTS));
            nonSticky.release(state);
            assertNotNull(tomcat.store.peek("n1", EngineHarness.PREFIX + "lock:" + ID),
                    "the other Tomcat's lock is not released by a request that never held it");
        }
    }

    @Test
    void aNodeThatHungIsMarkedDownByTheHealthCheckAndUpAgainOnceItAnswers() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            tomcat.store.hang("n2");
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            for (int i = 0; i < 20; i++) {
                assertEquals("n1", tomcat.newId("R" + i, "tomcat1").nodeId(), "new sessions avoid the hung node");
            }
            tomcat.store.resume("n2");
            tomcat.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS);
            tomcat.checkNodes();
            boolean n2Used = false;
            for (int i = 0; i < 50 && !n2Used; i++) {
                n2Used = tomcat.newId("S" + i, "tomcat1").nodeId().equals("n2");
            }
            assertTrue(n2Used, "the node takes new sessions again");
            assertFalse(tomcat.engine.sticky().movedId(SessionId.of("A", "n2", "tomcat1"), "tomcat1") != null,
                    "a session on it keeps its id");
        }
    }

    /**
     * A full node (memcached -M) refuses the marker's rewrite and deletes the marker: that is one
     * finding, not one at every round, which wrote every session held here again (into a node that
     * refuses them and deletes the copies it had) and dropped its repairs each second.
     */
    @Test
    void aNodeThatRefusesTheMarkerIsFoundEmptyOnce_notAtEveryRound() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            for (int i = 0; i < 2; i++) {
                tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
                tomcat.checkNodes();
            }
            tomcat.store.forget("n1"); // restarted empty, and full at once
            tomcat.store.refuseAbove("n1", 0);
            for (int i = 0; i < 3; i++) {
                tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
                tomcat.checkNodes();
            }

            assertEquals(1, tomcat.count(Statistics.Counter.NODES_FOUND_EMPTY));
            assertTrue(tomcat.engine.health().isUp("n1"), "a refusal takes no node out of use");
        }
    }

    /**
     * While a full node refuses, its refused stores delete the copies they would replace, and a
     * restart goes unnoticed (its marker is missing anyway): once it stores again, what this Tomcat
     * holds for it is written there again, without counting it as found empty.
     */
    @Test
    void aNodeThatStoresAgainAfterRefusingGetsTheSessionsThisTomcatHoldsAgain() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            StickySessions sticky = tomcat.engine.sticky();
            SessionState state = new SessionState();
            sticky.afterRequest(EngineHarness.snapshot(STICKY_ID, tomcat.time.millis(), Map.of("user", "alice")), state);
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            assertFalse(sticky.needsBackup(STICKY_ID, state));

            tomcat.store.refuseAbove("n1", 0); // full: the marker's daily rewrite is refused, the marker deleted
            tomcat.time.advance(86_400_000L);
            for (int i = 0; i < 3; i++) {
                tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
                tomcat.checkNodes();
            }
            assertEquals(0, tomcat.count(Statistics.Counter.NODES_FOUND_EMPTY), "a refused marker is no restart");
            assertFalse(sticky.needsBackup(STICKY_ID, state), "nothing written while it refuses");

            tomcat.store.refuseAbove("n1", Integer.MAX_VALUE); // memory freed, or restarted with more
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            assertTrue(sticky.needsBackup(STICKY_ID, state), "what this Tomcat holds is written there again");
            assertEquals(0, tomcat.count(Statistics.Counter.NODES_FOUND_EMPTY));
        }
    }

    @Test
    void aNodeThatComesBackEmptyGetsTheSessionsThisTomcatHoldsAgain() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            StickySessions sticky = tomcat.engine.sticky();
            SessionState state = new SessionState();
            sticky.afterRequest(EngineHarness.snapshot(STICKY_ID, tomcat.time.millis(), Map.of("user", "alice")), state);
            String key = EngineHarness.PREFIX + STICKY_ID;
            for (int i = 0; i < 3; i++) {
                tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
                tomcat.checkNodes();
            }
            assertEquals(0, tomcat.count(Statistics.Counter.NODES_FOUND_EMPTY), "a node that keeps its data is not");
            assertFalse(sticky.needsBackup(STICKY_ID, state));

            tomcat.store.forget("n1"); // restarted empty
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();

            assertEquals(1, tomcat.count(Statistics.Counter.NODES_FOUND_EMPTY));
            assertTrue(sticky.needsBackup(STICKY_ID, state), "the adapter's background run writes it again");
            sticky.afterRequest(EngineHarness.snapshot(STICKY_ID, tomcat.time.millis(), Map.of("user", "alice")), state);
            assertNotNull(tomcat.store.peek("n1", key), "written in full although nothing changed");
            assertFalse(sticky.needsBackup(STICKY_ID, state));
        }
    }

    /**
     * A request that only read the session, after its node came back empty and before the adapter's
     * background run reached it (5,000 sessions a run): the session is written again, not skipped as
     * unchanged, so a stop right after does not find it held in memory alone.
     */
    @Test
    void aRequestAfterItsNodeCameBackEmptyWritesTheSessionAgainWithoutWaitingForTheBackgroundRun()
            throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            StickySessions sticky = tomcat.engine.sticky();
            SessionState state = new SessionState();
            sticky.afterRequest(EngineHarness.snapshot(STICKY_ID, tomcat.time.millis(), Map.of("user", "alice")), state);
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            tomcat.store.forget("n1"); // restarted empty
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            assertEquals(1, tomcat.count(Statistics.Counter.NODES_FOUND_EMPTY));

            sticky.afterRequest(EngineHarness.snapshot(STICKY_ID, tomcat.time.millis(), Map.of("user", "alice")), state);
            assertNotNull(tomcat.store.peek("n1", EngineHarness.PREFIX + STICKY_ID), "written although unchanged");
            assertFalse(sticky.onlyInMemory(STICKY_ID, state, java.util.Set.of()));
        }
    }

    /**
     * A node whose name now points at another server (msm followed it while disconnected): that
     * server may hold this Tomcat's marker from an earlier time, with sessions as they were then. It
     * is treated as a node that came back empty, so the sessions held here are written there again.
     */
    @Test
    void aNodeMovedToAServerThatKeptOldDataGetsTheSessionsAgain() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            StickySessions sticky = tomcat.engine.sticky();
            SessionState state = new SessionState();
            sticky.afterRequest(EngineHarness.snapshot(STICKY_ID, tomcat.time.millis(), Map.of("user", "alice")), state);
            for (int i = 0; i < 3; i++) {
                tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
                tomcat.checkNodes();
            }
            assertEquals(0, tomcat.count(Statistics.Counter.NODES_FOUND_EMPTY));

            tomcat.store.movedToAnotherServer("n1"); // the marker is there: only the move tells
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();

            assertEquals(1, tomcat.count(Statistics.Counter.NODES_FOUND_EMPTY));
            assertEquals(1, tomcat.count(Statistics.Counter.NODES_MOVED));
            assertTrue(sticky.needsBackup(STICKY_ID, state), "the adapter's background run writes it again");
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            assertEquals(1, tomcat.count(Statistics.Counter.NODES_FOUND_EMPTY), "once per move");
            assertEquals(1, tomcat.count(Statistics.Counter.NODES_MOVED));
        }
    }

    @Test
    void aRollingRestartOfBothNodesLosesNoNonStickySessionThatWasReadInBetween() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false", "lockingMode", "none")) {
            NonStickySessions nonSticky = tomcat.engine.nonSticky();
            SessionChanges created = new SessionChanges();
            created.attributeSet("user");
            nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "alice")),
                    new SessionState(), created);
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();

            tomcat.store.forget("n2"); // the backup node restarts empty
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            SessionState read = new SessionState();
            assertNotNull(nonSticky.open(ID, read, false)); // a read, nothing changed
            nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("user", "alice")), read,
                    new SessionChanges());
            assertEquals(1, tomcat.count(Statistics.Counter.BACKUP_COPIES_REBUILT));

            tomcat.time.advance(15_000);
            tomcat.store.forget("n1"); // then the session's own node
            tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
            tomcat.checkNodes();
            SessionSnapshot after = nonSticky.open(ID, new SessionState(), false);
            assertNotNull(after, "the backup copy the read rebuilt serves it");
            assertEquals("alice", after.content().attributes().get("user"));
        }
    }

    @Test
    void aNodeCopyThatLostAPartIsReplacedByTheBackupsCopyAtItsNextLoad() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false")) {
            NonStickySessions nonSticky = tomcat.engine.nonSticky();
            Map<String, Object> big = new java.util.HashMap<>(); // over one part, in strings the transcoder takes
            SessionChanges created = new SessionChanges();
            for (int i = 0; i < 25; i++) {
                big.put("a" + i, "x".repeat(60_000));
                created.attributeSet("a" + i);
            }
            nonSticky.store(EngineHarness.snapshot(ID, tomcat.time.millis(), big), new SessionState(), created);
            String key = EngineHarness.PREFIX + ID;
            for (String k : tomcat.store.keys("n1")) {
                if (k.startsWith(key + ":part:")) {
                    tomcat.store.delete("n1", k); // evicted: the index stays, and no longer reads
                    break;
                }
            }

            SessionState state = new SessionState();
            assertNotNull(nonSticky.open(ID, state, true), "read from the backup copy");
            nonSticky.release(state);
            tomcat.store.forget("n2");
            SessionSnapshot again = nonSticky.open(ID, new SessionState(), true);
            assertNotNull(again, "its node holds a whole copy again");
            assertEquals(big, again.content().attributes());
        }
    }
}

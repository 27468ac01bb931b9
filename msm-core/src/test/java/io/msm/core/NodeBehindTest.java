package io.msm.core;

import static io.msm.core.EngineHarness.setting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * A Tomcat that could not reach a session's node wrote the session to the backup node alone; the node
 * answers again, still holding the older copy. Another Tomcat must not serve that copy because one
 * operation on the backup node was slow just then (CI once saw a read do so, an operation timeout
 * after the hang). On the in-memory store and fake time; two harnesses are two Tomcats.
 */
class NodeBehindTest extends TwoNonStickyTomcats {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);

    /** Tomcat A stores step 1 on both nodes, then step 2 on the backup node alone while n1 fails. */
    private void step2WrittenWhileTheNodeFailed(SessionId... ids) {
        NonStickySessions nonSticky = a.engine.nonSticky();
        for (SessionId id : ids) {
            store(nonSticky, id, new SessionState(), "1");
        }
        a.store.fail("n1");
        for (SessionId id : ids) {
            SessionState fromBackup = new SessionState();
            SessionSnapshot loaded = nonSticky.open(id, fromBackup, true);
            assertEquals("1", loaded.content().attributes().get("step"));
            store(nonSticky, id, fromBackup, "2");
            nonSticky.release(fromBackup);
            assertNotNull(a.store.peek("n2", EngineHarness.PREFIX + "primary-behind:" + id),
                    "written behind the marker that says n1's copy is older");
        }
        a.store.resume("n1"); // answers again, with step 1
    }

    /** One failed health-check probe: the node is out of use on that Tomcat for a while, and connected. */
    private static void outOfUse(EngineHarness tomcat, String node) {
        tomcat.store.fail(node);
        tomcat.time.advance(HealthCheck.INTERVAL_MILLIS);
        tomcat.checkNodes();
        tomcat.store.resume(node);
        for (NodeStatus status : tomcat.engine.nodeStatus()) {
            if (status.id().equals(node)) {
                assertFalse(status.up(), node + " out of use");
            }
        }
    }

    private static String step(EngineHarness tomcat) {
        return step(tomcat, ID);
    }

    private static String step(EngineHarness tomcat, SessionId id) {
        SessionState state = new SessionState();
        SessionSnapshot s = tomcat.engine.nonSticky().open(id, state, true);
        tomcat.engine.nonSticky().release(state);
        return s == null ? null : (String) s.content().attributes().get("step");
    }

    @Test
    void aBackupNodeOneSlowOperationMarkedDownIsStillAskedWhetherTheNodesCopyIsOlder() throws Exception {
        step2WrittenWhileTheNodeFailed(ID);
        outOfUse(b, "n2"); // its probe of n2 failed: n2 is out of use on b for a while, but connected
        assertEquals("2", step(b));
        assertEquals(1, b.count(Statistics.Counter.PRIMARY_COPIES_REBUILT), "n1 got the newer copy back");
    }

    @Test
    void aMarkerReadThatFailsOnceIsMadeAgainBeforeTheNodesCopyIsServed() throws Exception {
        step2WrittenWhileTheNodeFailed(ID);
        b.checkNodes(); // b hears n1's flag
        b.store.failNext("n2", 1); // the marker read, asked beside the node's own read
        assertEquals("2", step(b));
        assertEquals("2", step(a), "and on the Tomcat that wrote it");
    }

    @Test
    void aLogoutSeenOnlyByTheBackupNodeIsFoundWhenItsMarkerReadFailsOnce() throws Exception {
        NonStickySessions nonSticky = a.engine.nonSticky();
        store(nonSticky, ID, new SessionState(), "1");
        a.store.fail("n1");
        SessionState state = new SessionState();
        assertNotNull(nonSticky.open(ID, state, true), "from the backup copy");
        nonSticky.removed(ID, state, 1800); // the logout reaches the backup node only
        a.store.resume("n1");

        b.store.failNext("n2", 1);
        assertNull(step(b), "the logged-out session came back");
    }

    @Test
    void aMarkerReadWithoutAnAnswerInTimeIsMadeAgainWithTheCopy() throws Exception {
        step2WrittenWhileTheNodeFailed(ID);
        b.checkNodes();
        b.store.leaveUnanswered("n2", 1);
        assertEquals("2", step(b));
        assertEquals(1, b.count(Statistics.Counter.PRIMARY_COPIES_REBUILT));
    }

    private static final List<MemcachedNode> NODES = List.of(new MemcachedNode("n1", "127.0.0.1", 1, false),
            new MemcachedNode("n2", "127.0.0.1", 2, false));

    @Test
    void aMarkerDeletedBetweenTheTwoReadsDoesNotMakeTheNodesOlderCopyWin() throws Exception {
        FakeTime time = new FakeTime(1_700_000_000_000L);
        NonStickyKeys keys = new NonStickyKeys(new SessionNames("test_", null), NODES);
        BackupMarkers markers = new BackupMarkers(new InMemoryStore(time, "n1", "n2"),
                new NodeHealth(NODES, node -> true, time, 2000), keys, null, 300, time);
        assertEquals(BackupMarkers.Word.BEHIND, markers.settle(BackupMarkers.Word.BEHIND, Map.of(), ID),
                "the first read said the node is behind; the second found no marker (restored meanwhile)");
        assertEquals(BackupMarkers.Word.REMOVED, markers.settle(BackupMarkers.Word.BEHIND,
                Map.of(keys.removed(ID), ClusterWriter.MARKER), ID));
        assertEquals(BackupMarkers.Word.NONE, markers.settle(BackupMarkers.Word.UNANSWERED, Map.of(), ID));
        assertEquals(BackupMarkers.Word.NONE, markers.settle(BackupMarkers.Word.UNANSWERED, null, ID),
                "no answer twice: the node's copy, the best there is");
        assertEquals(BackupMarkers.Word.BEHIND, markers.settle(BackupMarkers.Word.UNANSWERED,
                Map.of(keys.behind(ID), ClusterWriter.MARKER), ID));
    }

    @Test
    void aBackupNodeWhoseDeletesWereDroppedPastTheLimitIsStillAskedForARemovalMarker() throws Exception {
        FakeTime time = new FakeTime(1_700_000_000_000L);
        NonStickyKeys keys = new NonStickyKeys(new SessionNames("test_", null), NODES);
        InMemoryStore store = new InMemoryStore(time, "n1", "n2");
        NodeHealth health = new NodeHealth(NODES, node -> true, time, 2000);
        BackupMarkers markers = new BackupMarkers(store, health, keys,
                new BehindFlags(store, keys, NODES, time, new Expiry(time)), 300, time);
        health.markDown("n2", "one slow operation");
        for (int i = 0; i <= NodeRepairs.MAX_PENDING; i++) { // an outage's deletes, past the limit
            health.repairLater("n2", NodeRepairs.delete("gone-" + i));
        }
        SessionId restored = SessionId.of("0123456789ABCDEF0123456789ABCDEF", "n1", null);
        store.put("n2", keys.behind(restored), ClusterWriter.MARKER); // one dropped delete may have been of it
        store.put("n2", keys.behind(ID), ClusterWriter.MARKER);
        store.put("n2", keys.removed(ID), ClusterWriter.MARKER); // another Tomcat's logout, seen by n2 only

        assertEquals(BackupMarkers.Word.REMOVED, markers.answer(markers.ask(ID, "n2"), ID, "n2"));
        assertEquals(BackupMarkers.Word.NONE, markers.answer(markers.ask(restored, "n2"), restored, "n2"),
                "a behind marker whose delete this Tomcat may have dropped is not taken for news");
    }

    @Test
    void aHungBackupNodeMakesOneLoadWaitNotEveryLoad() throws Exception {
        step2WrittenWhileTheNodeFailed(ID);
        b.checkNodes();
        a.store.hang("n2"); // connected, answers nothing
        assertNotNull(step(b), "the node's copy, the best there is");
        assertEquals(1, b.store.asks("n2"));
        for (int i = 0; i < 5; i++) {
            assertNotNull(step(b));
        }
        assertEquals(1, b.store.asks("n2"), "not asked again while out of use and lately silent");
        a.store.resume("n2");
    }

    @Test
    void aBackupNodeWhoseHealthProbeGoesUnansweredIsNotAskedByLoadsUntilAProbeIsAnswered() throws Exception {
        step2WrittenWhileTheNodeFailed(ID);
        b.checkNodes();
        a.store.hang("n2"); // connected, answers nothing: a SIGSTOP
        assertNotNull(step(b), "the node's copy, the best there is");
        assertEquals(1, b.store.asks("n2"));
        b.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS + 1); // the load's own silence is old news now
        b.checkNodes(); // but the health check's probe of n2 goes unanswered too

        for (int i = 0; i < 5; i++) {
            assertNotNull(step(b));
        }
        assertEquals(1, b.store.asks("n2"), "loads do not wait for a node that hangs, whenever they come");

        a.store.resume("n2");
        b.time.advance(HealthCheck.INTERVAL_MILLIS);
        b.checkNodes(); // answered
        assertEquals("2", step(b), "asked again once it answers: the backup's newer copy");
        assertEquals(2, b.store.asks("n2"));
    }

    @Test
    void aBackupNodeThatWentSilentIsAskedAgainAfterTheQuietWhenTheHealthCheckHasNotTriedItSince() throws Exception {
        step2WrittenWhileTheNodeFailed(ID);
        b.checkNodes();
        a.store.hang("n2");
        assertNotNull(step(b)); // silent for this load
        // A logout meanwhile leaves its markers to be written on n2: it stays out of use until they are.
        b.engine.nonSticky().removed(SessionId.of("0123456789ABCDEF0123456789ABCDEF", "n1", null), new SessionState(),
                1800);
        a.store.resume("n2"); // answers again; b's health check is held elsewhere and has not seen it
        b.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS + 1);
        assertFalse(b.engine.nodeStatus().stream().anyMatch(n -> n.id().equals("n2") && n.up()), "n2 out of use");

        assertEquals("2", step(b), "asked again: the backup's newer copy, not the node's older one");
        assertEquals(2, b.store.asks("n2"));
    }

    @Test
    void aBackupNodeThatAnsweredTheSecondReadIsAskedByTheNextLoadsToo() throws Exception {
        SessionId other = SessionId.of("0123456789ABCDEF0123456789ABCDEF", "n1", null);
        step2WrittenWhileTheNodeFailed(ID, other);
        b.checkNodes();
        b.store.leaveUnanswered("n2", 1); // slow once: n2 is out of use on b for a while
        assertEquals("2", step(b, ID));
        assertEquals("2", step(b, other), "asked although out of use: its last read was answered");
    }

    @Test
    void aLoadThatDidNotReadTheNodeLeavesTheBehindMarkerWhenTheNodeIsBackBeforeItEnds() throws Exception {
        step2WrittenWhileTheNodeFailed(ID);
        outOfUse(b, "n1");
        b.store.atNextOperation("n2", () -> b.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS + 1));
        SessionState unlocked = new SessionState(); // else the lock's add, made on n2, is the next operation there
        assertEquals("2", b.engine.nonSticky().open(ID, unlocked, false).content().attributes().get("step"),
                "from the backup copy; n1 is back in use before the load ends");
        assertNotNull(b.store.peek("n2", EngineHarness.PREFIX + "primary-behind:" + ID),
                "this load did not read n1's copy: it cannot tell that copy is older, so the marker stays");
        assertEquals("2", step(b), "the next load reads n1, finds the marker and restores n1");
        assertEquals(1, b.count(Statistics.Counter.PRIMARY_COPIES_REBUILT));
        assertEquals("2", step(a));
    }

    /**
     * The same load, then a store once the node is back: it writes the backup's content with the
     * request's change, not the change onto the node's older copy, which would drop what the outage
     * wrote (here a login).
     */
    @Test
    void aStoreAfterALoadThatDidNotReadTheNodeKeepsWhatWasWrittenDuringTheOutage() throws Exception {
        loginWrittenWhileTheNodeFailed();

        outOfUse(b, "n1");
        b.store.atNextOperation("n2", () -> b.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS + 1));
        SessionState unlocked = new SessionState();
        assertEquals("alice", b.engine.nonSticky().open(ID, unlocked, false).content().attributes().get("user"));
        b.engine.nonSticky().store(EngineHarness.snapshot(ID, b.time.millis(), Map.of("step", "2", "user", "alice")),
                unlocked, setting("step"));

        assertStepTwoWithTheLogin();
    }

    /** A restore of the node's copy that fails: the store then writes the backup's content, as without one. */
    @Test
    void aStoreAfterARestoreThatFailedKeepsWhatWasWrittenDuringTheOutage() throws Exception {
        loginWrittenWhileTheNodeFailed();
        b.checkNodes(); // b hears n1's flag, and restores n1 at the load
        // n1's third operation is the restore's CAS, after the copy and its record: it fails.
        b.store.atOperation("n1", 3, () -> b.store.failNext("n1", 1));
        SessionState unlocked = new SessionState();
        assertEquals("alice", b.engine.nonSticky().open(ID, unlocked, false).content().attributes().get("user"));
        assertEquals(0, b.count(Statistics.Counter.PRIMARY_COPIES_REBUILT), "the restore failed");
        b.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS + 1);
        b.checkNodes(); // n1 answers b again, still with the copy from before the login

        b.engine.nonSticky().store(EngineHarness.snapshot(ID, b.time.millis(), Map.of("step", "2", "user", "alice")),
                unlocked, setting("step"));

        assertStepTwoWithTheLogin();
    }

    /** Tomcat A stores step 1 on both nodes, then a login on the backup node alone while n1 fails. */
    private void loginWrittenWhileTheNodeFailed() {
        NonStickySessions nonSticky = a.engine.nonSticky();
        store(nonSticky, ID, new SessionState(), "1");
        a.store.fail("n1");
        SessionState during = new SessionState();
        assertNotNull(nonSticky.open(ID, during, true));
        nonSticky.store(EngineHarness.snapshot(ID, a.time.millis(), Map.of("step", "1", "user", "alice")), during,
                setting("user"));
        nonSticky.release(during);
        a.store.resume("n1"); // answers again, with the copy from before the login
    }

    private void assertStepTwoWithTheLogin() {
        SessionState next = new SessionState();
        SessionSnapshot s = a.engine.nonSticky().open(ID, next, true);
        a.engine.nonSticky().release(next);
        assertEquals(Map.of("step", "2", "user", "alice"), s.content().attributes());
    }

    /** The load that restores the node's copy knows that copy's token: its store writes over it, no merge. */
    @Test
    void aStoreAfterItsLoadRestoredTheNodesCopyIsNoMerge() throws Exception {
        step2WrittenWhileTheNodeFailed(ID);
        b.checkNodes(); // b hears n1's flag
        SessionState state = new SessionState();
        assertEquals("2", b.engine.nonSticky().open(ID, state, true).content().attributes().get("step"));
        assertEquals(1, b.count(Statistics.Counter.PRIMARY_COPIES_REBUILT));

        store(b.engine.nonSticky(), ID, state, "3");
        b.engine.nonSticky().release(state);

        assertEquals(0, b.count(Statistics.Counter.NON_STICKY_STORES_MERGED), "stored over its own copy by its token");
        assertEquals("3", step(a));
    }

    @Test
    void aLogoutIsFoundOnABackupNodeOutOfUseWhileADeleteOfItsBehindMarkerWaitsThere() throws Exception {
        step2WrittenWhileTheNodeFailed(ID);
        b.checkNodes();
        // b restores n1, and n2 fails at the delete of the behind marker: queued on b, n2 out of use there.
        b.store.failNextDelete("n2", EngineHarness.PREFIX + "primary-behind:" + ID);
        assertEquals("2", step(b));
        b.store.resume("n2");
        assertEquals(1, b.count(Statistics.Counter.PRIMARY_COPIES_REBUILT));

        a.store.fail("n1"); // the logout on a reaches the backup node only
        SessionState state = new SessionState();
        assertNotNull(a.engine.nonSticky().open(ID, state, true));
        a.engine.nonSticky().removed(ID, state, 1800);
        a.store.resume("n1"); // n1 answers b again, with the copy b restored

        assertNull(step(b), "the logged-out session came back on b");
    }
}

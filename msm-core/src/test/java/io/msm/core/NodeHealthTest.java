package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Node choice and re-probing, driven by a fake clock and a fake connection state: no sleeps, no servers. */
class NodeHealthTest {
    private static final long PROBE_MILLIS = 2000;
    // Enough picks that a random choice of a wrong node would show up.
    private static final int PICKS = 200;

    /** A clock the test moves by hand. */
    private final FakeTime clock = new FakeTime(Instant.parse("2024-01-01T00:00:00Z").toEpochMilli());
    private final Set<String> disconnected = new HashSet<>();
    private final NodeHealth health = new NodeHealth(List.of(
            new MemcachedNode("n1", "h", 1, false),
            new MemcachedNode("n2", "h", 2, false),
            new MemcachedNode("f1", "h", 3, true)),
            id -> !disconnected.contains(id), clock, PROBE_MILLIS);

    private Set<String> picked() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < PICKS; i++) {
            ids.add(health.pick().id());
        }
        return ids;
    }

    @Test
    void aFailedOperationMarksDownTheNodeItWentTo_notTheNodeItsCallerNamed() {
        // ClusterExpiry read the backup node and blamed the session's node: with the backup restarting,
        // both were out of use and a user lost the session (CI's soak).
        health.failed("n2", new StoreException("n1", "get on node n1 failed: Cancelled", null));
        assertFalse(health.isUp("n1"));
        assertTrue(health.isUp("n2"));
    }

    @Test
    void markDownLastsUntilTheProbeIntervalHasPassed() {
        health.markDown("n1", "test");
        assertFalse(health.isUp("n1"));

        clock.advance(PROBE_MILLIS - 1);
        assertFalse(health.isUp("n1"));

        clock.advance(1);
        assertTrue(health.isUp("n1"));
    }

    @Test
    void repairsQueuedWhileDownHoldTheNodeBack_thoseQueuedOnceItAnswersDoNot() throws Exception {
        List<String> ran = new java.util.ArrayList<>();
        health.markDown("n1", "test");
        health.repairLater("n1", (store, node) -> {
            ran.add("from the outage");
            // a request that found the node not offered yet queues more while the round runs
            health.repairLater("n1", (s, n) -> ran.add("queued meanwhile"));
        });
        clock.advance(PROBE_MILLIS);
        assertFalse(health.isUp("n1"), "not offered before what it missed is done");

        health.recordSuccess("n1", 1000); // the health check's probe answered
        assertFalse(health.isUp("n1"));
        health.repair(null, "n1");
        assertEquals(List.of("from the outage"), ran, "one round: what was queued when it began");
        assertTrue(health.isUp("n1"), "what requests queued meanwhile does not hold it back");
        assertEquals(1, health.repairsWaiting());

        health.repair(null, "n1"); // the next round
        assertEquals(List.of("from the outage", "queued meanwhile"), ran);
        assertEquals(0, health.repairsWaiting());
    }

    /**
     * A full node (memcached -M) refuses a marker's set: it cannot be done while the node is full,
     * and it must not hold back the repairs behind it (a logout's delete) nor keep the node out of
     * use; nor may it be dropped (a removal marker keeps a late write from bringing a logout back).
     */
    @Test
    void aRepairTheNodeRefusesGoesBehindTheOthers_andIsTriedAgain() throws Exception {
        List<String> ran = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean full = new java.util.concurrent.atomic.AtomicBoolean(true);
        health.markDown("n1", "test");
        health.repairLater("n1", (store, node) -> {
            if (full.get()) {
                throw StoreException.refused(node, "set refused: out of memory", null);
            }
            ran.add("the removal marker");
        });
        health.repairLater("n1", (store, node) -> ran.add("a logout's delete"));
        clock.advance(PROBE_MILLIS);
        health.recordSuccess("n1", 1000);

        health.repair(null, "n1");

        assertEquals(List.of("a logout's delete"), ran);
        assertTrue(health.isUp("n1"), "the refused one holds the node back no more");
        assertEquals(1, health.repairsWaiting(), "the refused one waits, at the tail");

        full.set(false);
        health.repair(null, "n1"); // a full node is asked again only after a while
        assertEquals(List.of("a logout's delete"), ran);
        assertEquals(1, health.repairsWaiting());
        clock.advance(NodeRepairs.REFUSED_RETRY_MILLIS);
        health.repair(null, "n1");
        assertEquals(List.of("a logout's delete", "the removal marker"), ran);
        assertEquals(0, health.repairsWaiting());
    }

    @Test
    void aRepairOfAKeyAlreadyQueuedIsQueuedOnce_andANodeFoundEmptyDropsThemAll() {
        health.markDown("n1", "test");
        for (int i = 0; i < 1000; i++) { // every request of an outage under load
            health.repairLater("n1", NodeRepairs.delete("session-" + (i % 10)));
            health.repairLater("n1", NodeRepairs.set("marker-" + (i % 10), new byte[] {1}, 60));
        }
        assertEquals(20, health.repairsWaiting());
        clock.advance(PROBE_MILLIS);
        health.recordSuccess("n1", 1000);
        assertFalse(health.isUp("n1"));

        health.dropRepairs("n1"); // restarted empty: nothing there to correct
        assertEquals(0, health.repairsWaiting());
        assertTrue(health.isUp("n1"));
    }

    @Test
    void aLogoutsDeleteDroppedPastTheLimitKeepsEveryKeyOfTheNodeFromBeingAskedAnyway() {
        health.markDown("n1", "test");
        health.markDown("n2", "test");
        health.repairLater("n2", NodeRepairs.delete("on-n2"));
        health.repairLater("n1", NodeRepairs.delete("logged-out"));
        assertFalse(health.mayAskAnyway("n1", "logged-out"));
        assertTrue(health.mayAskAnyway("n1", "another"));
        for (int i = 0; i < NodeRepairs.MAX_PENDING; i++) { // the oldest, the logout's delete, is dropped
            health.repairLater("n1", NodeRepairs.set("marker-" + i, new byte[] {1}, 60));
        }
        assertEquals(NodeRepairs.MAX_PENDING, health.repairsWaiting());
        assertFalse(health.mayAskAnyway("n1", "logged-out"), "which keys the dropped deletes had is not known");
        assertFalse(health.mayAskAnyway("n1", "another"));
        assertFalse(health.mayAskAnyway("n2", "on-n2"), "dropped from the queue that grew, not another node's");
        assertTrue(health.mayAskAnyway("n2", "another"));

        health.dropRepairs("n1"); // restarted empty: the logged-out copies went with it
        assertTrue(health.mayAskAnyway("n1", "logged-out"));
    }

    @Test
    void disconnectedNodeIsDownWhateverTheClock() {
        disconnected.add("n1");
        clock.advance(3_600_000);

        assertFalse(health.isUp("n1"));
        assertFalse(health.isUp("unknown"));
    }

    @Test
    void recordSuccessClearsDownState() {
        health.markDown("n1", "test");

        health.recordSuccess("n1", 1000);

        assertTrue(health.isUp("n1"));
    }

    @Test
    void pickNeverReturnsFailoverWhileARegularNodeIsUp() {
        assertEquals(Set.of("n1", "n2"), picked());

        health.markDown("n1", "test");
        assertEquals(Set.of("n2"), picked());
    }

    @Test
    void pickReturnsFailoverWhenAllRegularNodesAreDown() {
        health.markDown("n1", "test");
        disconnected.add("n2");

        assertEquals(Set.of("f1"), picked());
    }

    @Test
    void pickReturnsARegularNodeWhenNothingIsUp() {
        disconnected.addAll(Set.of("n1", "n2", "f1"));

        assertEquals(Set.of("n1", "n2"), picked());
    }

    @Test
    void pickPrefersNodesThatAnswerFaster() {
        for (int i = 0; i < 3; i++) {
            health.recordProbe("n1", 100_000); // 0.1 ms
            health.recordProbe("n2", 50_000_000); // 50 ms
        }

        assertEquals(Set.of("n1"), picked());
    }

    @Test
    void nodesNotProbedYetShareNewSessions_andOneSlowProbeMovesNothing() {
        assertEquals(Set.of("n1", "n2"), picked(), "before any probe");
        health.recordProbe("n1", 80_000_000); // a new connection's first answer
        health.recordProbe("n2", 200_000);
        health.recordProbe("n1", 150_000);
        health.recordProbe("n2", 180_000);
        health.recordProbe("n1", 160_000);
        health.recordProbe("n2", 210_000);

        assertEquals(Set.of("n1", "n2"), picked());
    }

    @Test
    void aSlowFirstProbeKeepsANodeOutOnlyUntilItsNextAnswer_andARemoteNodeIsJudgedAtOnce() {
        // A busy host at start: n2's first answer is slow (a new connection), n1's fast.
        health.recordProbe("n1", 150_000);
        health.recordProbe("n2", 3_000_000);
        assertEquals(Set.of("n1"), picked(), "after one slow answer, as a node in another site is");
        health.recordProbe("n1", 150_000);
        health.recordProbe("n2", 160_000);
        assertEquals(Set.of("n1", "n2"), picked(), "one fast answer outvotes one slow one");
        health.recordProbe("n1", 150_000);
        health.recordProbe("n2", 170_000);
        health.recordProbe("n1", 150_000);
        health.recordProbe("n2", 5_000_000);
        assertEquals(Set.of("n1", "n2"), picked(), "two slow answers of four move nothing");
        health.recordProbe("n1", 150_000);
        health.recordProbe("n2", 5_000_000);
        assertEquals(Set.of("n1"), picked(), "three slow answers of five are a lasting difference");
    }

    @Test
    void aNodeThatBecomesSlowLeavesTheBandWithinAFewProbes() {
        for (int i = 0; i < 5; i++) {
            health.recordProbe("n1", 200_000);
            health.recordProbe("n2", 200_000);
        }
        for (int i = 0; i < 3; i++) {
            health.recordProbe("n2", 30_000_000); // behind a slow link now
        }

        assertEquals(Set.of("n1"), picked());
    }

    @Test
    void sessionOnADownNodeMovesWhenAnotherNodeIsUp() {
        health.markDown("n1", "test");

        assertTrue(health.shouldMove("n1"));
        assertFalse(health.shouldMove("n2"));
    }

    @Test
    void sessionStaysWhenNothingIsUp() {
        disconnected.addAll(Set.of("n1", "n2", "f1"));

        assertFalse(health.shouldMove("n1"));
        assertFalse(health.shouldMove("f1"));
    }

    @Test
    void sessionOnFailoverNodeMovesBackWhileARegularNodeIsUp() {
        assertTrue(health.shouldMove("f1"));

        disconnected.addAll(Set.of("n1", "n2"));
        assertFalse(health.shouldMove("f1"));
    }

    @Test
    void sessionOnAnUnknownNodeMovesWhenANodeIsUp() {
        assertTrue(health.shouldMove("gone"));
    }
}

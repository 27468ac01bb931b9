package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The window the node flags leave: a Tomcat that read "no flag" just before another Tomcat raised it
 * must not skip the session markers once the raiser writes one. On the in-memory store and fake time;
 * two {@link BehindFlags} on one store are two Tomcats.
 */
class BehindFlagsTest {
    private static final int EXPIRY = 1800 + 300;

    private final FakeTime time = new FakeTime(1_700_000_000_000L);
    private final InMemoryStore store = new InMemoryStore(time, "n1", "n2");
    private final List<MemcachedNode> nodes = new ArrayList<>();
    private final NonStickyKeys keys;

    BehindFlagsTest() throws Exception {
        nodes.add(new MemcachedNode("n1", "127.0.0.1", 1, false));
        nodes.add(new MemcachedNode("n2", "127.0.0.1", 2, false));
        keys = new NonStickyKeys(new SessionNames("test_", null), nodes);
    }

    private BehindFlags tomcat() {
        return new BehindFlags(store, keys, nodes, time, new Expiry(time));
    }

    /** What the health check does with its probe of the node. */
    private void probe(BehindFlags flags, String node) throws StoreException {
        long sent = time.nanoTime();
        flags.heard(node, store.getAll(node, flags.keysOn(node)), sent);
    }

    @Test
    void aProbeFromBeforeTheFlagIsNoLongerTrustedWhenItsRaiserGoesOn() throws Exception {
        BehindFlags cutOff = tomcat();
        BehindFlags other = tomcat();
        probe(other, "n2"); // n2 holds n1's flag
        assertFalse(other.mayBeBehind("n1"), "no flag: loads of n1's sessions skip the markers");

        time.advance(500);
        assertTrue(cutOff.raise("n1", EXPIRY));
        assertNotNull(store.peek("n2", keys.nodeBehind("n1")));
        assertTrue(time.sleptMillis() >= BehindFlags.LEASE_MILLIS, "the raiser waited out every probe before it");
        assertTrue(other.mayBeBehind("n1"),
                "without a probe since, the other Tomcat asks for markers by the time the first one is written");

        probe(other, "n2");
        probe(other, "n1"); // n1 holds n2's flag
        assertFalse(other.mayBeBehind("n2"), "n2's sessions are not concerned");
        time.advance(10 * BehindFlags.LEASE_MILLIS);
        assertTrue(other.mayBeBehind("n1"), "the flag is up: every load of n1's sessions asks");
        assertTrue(cutOff.mayBeBehind("n1"));
    }

    @Test
    void theFlagIsSetOnceAndWaitedForOncePerOutage() throws Exception {
        BehindFlags cutOff = tomcat();
        assertTrue(cutOff.raise("n1", EXPIRY));
        long slept = time.sleptMillis();
        store.put("n2", keys.nodeBehind("n1"), new byte[] {7}); // to see whether it is set again
        assertTrue(cutOff.raise("n1", EXPIRY));
        assertEquals(slept, time.sleptMillis(), "no second wait");
        assertEquals(7, store.peek("n2", keys.nodeBehind("n1"))[0], "not set again");
    }

    @Test
    void aFlagTheBackupNodeLostIsRaisedAndWaitedForAgain() throws Exception {
        BehindFlags cutOff = tomcat();
        BehindFlags other = tomcat();
        assertTrue(cutOff.raise("n1", EXPIRY));
        store.forget("n2"); // restarted empty: the flag and the markers it covered are gone
        time.advance(HealthCheck.INTERVAL_MILLIS);
        probe(cutOff, "n2");
        probe(other, "n2");
        assertFalse(other.mayBeBehind("n1"));

        assertWaitsALease(() -> cutOff.raise("n1", EXPIRY));
        assertNotNull(store.peek("n2", keys.nodeBehind("n1")), "set again");
        assertTrue(other.mayBeBehind("n1"));
    }

    @Test
    void oneTomcatNeverShortensTheFlagAnotherRaised() throws Exception {
        BehindFlags longSessions = tomcat();
        BehindFlags shortSessions = tomcat();
        assertTrue(longSessions.raise("n1", 7 * 86_400));
        long end = flagEnd();
        assertTrue(end >= time.millis() + 7 * 86_400_000L);
        assertTrue(shortSessions.raise("n1", 600));
        assertEquals(end, flagEnd(), "a shorter raise leaves the longer flag as it was");
    }

    @Test
    void aMarkerWrittenAfterItsFlagWasLostIsCoveredBeforeItsWriterGoesOn() throws Exception {
        BehindFlags cutOff = tomcat();
        BehindFlags other = tomcat();
        assertTrue(cutOff.raise("n1", EXPIRY));
        store.forget("n2"); // restarted between the flag and the marker
        probe(other, "n2");
        // the marker is written here, then:
        assertWaitsALease(() -> cutOff.confirm("n1", EXPIRY));
        assertNotNull(store.peek("n2", keys.nodeBehind("n1")), "raised again");
        assertTrue(other.mayBeBehind("n1"));
    }

    @Test
    void aFlagAnotherTomcatRaisedAgainAfterALossIsWaitedForAnew() throws Exception {
        BehindFlags cutOff = tomcat();
        BehindFlags second = tomcat();
        assertTrue(cutOff.raise("n1", EXPIRY));
        store.forget("n2");
        second.raiseLate("n1", EXPIRY); // up again, but Tomcats that probed in between trust its absence
        // the marker is written here, then, although a flag is up:
        assertWaitsALease(() -> cutOff.confirm("n1", EXPIRY));
    }

    /** A raise or confirm that returns only once no Tomcat trusts a probe from before the flag. */
    private void assertWaitsALease(Raising raising) throws StoreException {
        long slept = time.sleptMillis();
        assertTrue(raising.run());
        assertTrue(time.sleptMillis() - slept >= BehindFlags.LEASE_MILLIS, "waited for anew");
    }

    private interface Raising {
        boolean run() throws StoreException;
    }

    @Test
    void aLogoutThatReachedNeitherNodeIsSeenElsewhereOnceOnlyTheBackupNodeGotItsMarker() throws Exception {
        SessionId id = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
        try (EngineHarness cutOff = EngineHarness.start("sticky", "false");
                EngineHarness other = cutOff.secondTomcat("sticky", "false")) {
            SessionChanges created = new SessionChanges();
            created.attributeSet("user");
            SessionState state = new SessionState();
            cutOff.engine.nonSticky().store(EngineHarness.snapshot(id, cutOff.time.millis(),
                    java.util.Map.of("user", "alice")), state, created);
            cutOff.store.fail("n1");
            cutOff.store.fail("n2");
            cutOff.engine.nonSticky().removed(id, state, 1800); // the logout reaches neither node
            cutOff.store.resume("n2"); // the backup node answers first
            cutOff.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS);
            cutOff.checkNodes(); // n1 still fails: only n2 gets what it missed
            assertNotNull(cutOff.store.peek("n2", keys.removed(id)));
            cutOff.store.resume("n1"); // still holding the session: the cut-off Tomcat's deletes wait

            other.checkNodes();
            assertEquals(null, other.engine.nonSticky().open(id, new SessionState(), true),
                    "the other Tomcat reads the backup's marker, since the repair raised n1's flag");
        }
    }

    private long flagEnd() {
        return java.nio.ByteBuffer.wrap(store.peek("n2", keys.nodeBehind("n1"))).getLong();
    }

    @Test
    void aTomcatWhoseProbesStoppedAsksForMarkers() throws Exception {
        BehindFlags other = tomcat();
        assertTrue(other.mayBeBehind("n1"), "never probed");
        probe(other, "n2");
        assertFalse(other.mayBeBehind("n1"));
        time.advance(BehindFlags.LEASE_MILLIS + 1);
        assertTrue(other.mayBeBehind("n1"), "its last probe is too old to trust");
    }
    /**
     * Requests that write sessions of a node this Tomcat cannot reach wait, one after the other, for
     * the monitor its flag is raised under. When the backup node does not answer the one holding it,
     * those already waiting give up at once instead of each asking it again, each its own timeout in
     * turn (200 request threads: minutes for the last).
     */
    @Test
    void requestsWaitingBehindARaiseTheBackupNodeDidNotAnswerGiveUpWithoutAskingAgain() throws Exception {
        String flagKey = keys.nodeBehind("n1");
        java.util.concurrent.CountDownLatch asked = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger asks = new java.util.concurrent.atomic.AtomicInteger();
        SessionStore hanging = (SessionStore) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {SessionStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("gets") && "n2".equals(args[0]) && flagKey.equals(args[1])) {
                        if (asks.incrementAndGet() == 1) {
                            asked.countDown();
                            answer.await(10, java.util.concurrent.TimeUnit.SECONDS);
                        }
                        throw new StoreException("n2", "gets on node n2 failed: timed out", null);
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        BehindFlags cutOff = new BehindFlags(hanging, keys, nodes, time, new Expiry(time));
        java.util.concurrent.ExecutorService requests = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<Boolean>> raises = new ArrayList<>();
            raises.add(requests.submit(() -> cutOff.raise("n1", EXPIRY)));
            assertTrue(asked.await(10, java.util.concurrent.TimeUnit.SECONDS), "the first raise asks the backup node");
            List<Thread> waiting = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int i = 0; i < 2; i++) {
                raises.add(requests.submit(() -> {
                    waiting.add(Thread.currentThread());
                    return cutOff.raise("n1", EXPIRY);
                }));
            }
            io.msm.testkit.Await.until("two requests waiting for the monitor", java.time.Duration.ofSeconds(10),
                    () -> waiting.size() == 2 && waiting.stream().allMatch(t -> t.getState() == Thread.State.BLOCKED));
            time.advance(1000); // the operation's timeout runs out
            answer.countDown();

            for (java.util.concurrent.Future<Boolean> raise : raises) {
                java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                        java.util.concurrent.ExecutionException.class, () -> raise.get(10, java.util.concurrent.TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof StoreException, e.getCause().toString());
            }
            assertEquals(1, asks.get(), "the backup node was asked once, not once per request in the queue");
        } finally {
            requests.shutdownNow();
        }
    }
}

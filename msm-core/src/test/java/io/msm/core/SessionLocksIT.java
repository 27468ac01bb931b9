package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/** Lock release against a real memcached: one round trip, and never the lock of a later holder. */
class SessionLocksIT {
    private static final String KEY = "test_lock:ABC-n1";
    private static final String DATA = "test_ABC-n1";
    private static final String VALIDITY = "test_validity:ABC-n1";

    private MemcachedServer server;
    private SessionStore store;
    private NodeHealth health;
    /** Locks that expire after 1 s, for the tests of an expired lock. */
    private SessionLocks locks;
    /**
     * Locks that outlive any test: memcached's clock ticks once a second, so a 1 s lock can vanish
     * at the next tick, a moment after it was taken.
     */
    private SessionLocks lasting;

    @BeforeEach
    void start() throws Exception {
        server = MemcachedServer.start();
        Settings settings = Settings.parse(Map.of("memcachedNodes", server.node("n1")));
        store = new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM);
        store.awaitConnections(5000);
        health = new NodeHealth(settings.nodes(), store::isConnected, Clock.systemUTC(), 2000);
        locks = new SessionLocks(store, health, new Statistics(), 1, 100, Ticker.SYSTEM,
                new OncePerMinute(Clock.systemUTC()));
        lasting = new SessionLocks(store, health, new Statistics(), 60, 100, Ticker.SYSTEM,
                new OncePerMinute(Clock.systemUTC()));
    }

    @AfterEach
    void stop() {
        try {
            store.close();
        } finally {
            server.close();
        }
        assertFalse(server.isRunning(), "memcached outlives the test");
    }

    @Test
    void aLockAddedOverTheBinaryProtocolCarriesItsCasToken_andItsReleaseDeletesTheKey() {
        SessionLocks.Lock lock = lasting.acquire(KEY, List.of("n1"), "…ABC-n1");
        assertTrue(lock.held);
        assertNotEquals(0, lock.cas, "the add's CAS token, so that release needs no gets");

        lasting.release(lock); // a lock of 1 s would vanish by itself: the test could not fail

        // Sent, not awaited: the request goes on while memcached deletes it.
        Await.until("the lock to be deleted", Duration.ofSeconds(5), () -> server.get(KEY) == null);
    }

    /**
     * A request that holds its lock longer than lockExpiration (a download, a long poll) lost it to
     * memcached meanwhile: another Tomcat's request may have run alongside. Counted and said.
     */
    @Test
    void aLockReleasedAfterLockExpirationIsCountedAndNamedInAWarning() {
        FakeTime time = new FakeTime(1_700_000_000_000L);
        Statistics statistics = new Statistics();
        SessionLocks timed = new SessionLocks(store, health, statistics, 60, 100, time, new OncePerMinute(time));
        SessionLocks.Lock brief = timed.acquire(KEY, List.of("n1"), "…ABC-n1");
        time.advance(60_000);
        timed.release(brief);
        assertEquals(0, statistics.get(Statistics.Counter.LOCKS_OUTLIVED), "held for lockExpiration exactly");
        Await.until("the first lock deleted", Duration.ofSeconds(5), () -> server.get(KEY) == null);

        SessionLocks.Lock outlived = timed.acquire(KEY, List.of("n1"), "…ABC-n1");
        assertTrue(outlived.held);
        time.advance(61_000);
        List<String> lines;
        try (JulCapture log = JulCapture.of(SessionLocks.class)) {
            timed.release(outlived);
            lines = log.lines();
        }
        assertEquals(1, statistics.get(Statistics.Counter.LOCKS_OUTLIVED));
        assertTrue(lines.stream().anyMatch(l -> l.contains("…ABC-n1") && l.contains("61000 ms")
                && l.contains("lockExpiration=60 s")), lines.toString());
    }

    @Test
    void releasingALockThatExpiredLeavesTheNextHoldersLockAlone() throws Exception {
        SessionLocks.Lock first = locks.acquire(KEY, List.of("n1"), "…ABC-n1");
        Await.until("memcached to drop the first lock (lockExpiration 1 s)", Duration.ofSeconds(5),
                () -> server.get(KEY) == null);
        SessionLocks.Lock second = lasting.acquire(KEY, List.of("n1"), "…ABC-n1");
        assertTrue(second.held);

        locks.release(first);
        store.get("n1", KEY); // sent after the release on the same connection: answered after it

        assertArrayEquals(second.token, server.get(KEY), "the second holder's lock is still there");
        lasting.release(second);
        Await.until("the second lock to be deleted", Duration.ofSeconds(5), () -> server.get(KEY) == null);
    }

    @Test
    void aLockTakenAtTheFirstTryBringsTheSessionReadInTheSameRoundTrip_once() {
        server.set(DATA, new byte[] {1, 2, 3}, 60);
        server.set(VALIDITY, new byte[] {9}, 60);

        SessionLocks.Lock lock = locks.acquire(KEY, List.of("n1"), "…ABC-n1", DATA, VALIDITY);

        assertTrue(lock.held);
        assertNotEquals(0, lock.cas);
        assertNull(lock.takeRead("n2"), "a read is only good for the node it came from");
        SessionLocks.Lock again = locks.acquire(KEY + "2", List.of("n1"), "…ABC-n1", DATA, VALIDITY);
        SessionStore.Pair read = again.takeRead("n1");
        assertArrayEquals(new byte[] {1, 2, 3}, read.versioned.value);
        assertNotEquals(0, read.versioned.cas, "the CAS token the store will be conditional on");
        assertArrayEquals(new byte[] {9}, read.companion);
        assertNull(again.takeRead("n1"), "taken once");
    }

    @Test
    void aWaiterNeverGetsTheReadItMadeWhileAnotherHeldTheLock() throws Exception {
        server.set(DATA, "before".getBytes(), 60);
        Statistics waits = new Statistics();
        SessionLocks waiting = new SessionLocks(store, new NodeHealth(
                Settings.parse(Map.of("memcachedNodes", server.node("n1"))).nodes(), store::isConnected,
                Clock.systemUTC(), 2000), waits, 5, 5000, Ticker.SYSTEM,
                new OncePerMinute(Clock.systemUTC()));
        SessionLocks.Lock holder = lasting.acquire(KEY, List.of("n1"), "…ABC-n1");
        CompletableFuture<SessionLocks.Lock> waiter = CompletableFuture.supplyAsync(
                () -> waiting.acquire(KEY, List.of("n1"), "…ABC-n1", DATA, VALIDITY));
        // The waiter's first add, and the read behind it, met the held lock.
        Await.until("the waiter to find the lock held", Duration.ofSeconds(10),
                () -> waits.get(Statistics.Counter.LOCK_WAITS) == 1);
        server.set(DATA, "after".getBytes(), 60); // the holder stores, then releases
        lasting.release(holder);

        SessionLocks.Lock taken = waiter.get(10, TimeUnit.SECONDS);
        assertTrue(taken.held);
        assertNull(taken.takeRead("n1"), "what it read before it held the lock is not the session now");
        assertEquals("after", new String(store.get("n1", DATA)));
    }

    @Test
    void aReleaseTheNodeNeverAnswersIsDoneOnceItAnswersAgain() throws Exception {
        SessionLocks.Lock lock = locks.acquire(KEY, List.of("n1"), "…ABC-n1");
        server.kill(); // kill -9: the delete on its way fails with the connection

        locks.release(lock);

        Await.until("the failed release to wait for its node", Duration.ofSeconds(10), () -> health.repairsWaiting() == 1);
        assertFalse(health.isUp("n1"), "a node with a repair waiting serves nothing before it is done");
    }

    @Test
    void overTheTextProtocolALockIsReleasedToo_andItsNodeStaysUp() throws Exception {
        Settings text = Settings.parse(Map.of("memcachedNodes", server.node("n1"), "memcachedProtocol", "text",
                "sticky", "false"));
        try (SessionStore textStore = new SpymemcachedStore(text.nodes(), text, Ticker.SYSTEM)) {
            textStore.awaitConnections(5000);
            NodeHealth textHealth = new NodeHealth(text.nodes(), textStore::isConnected, Clock.systemUTC(), 2000);
            SessionLocks textLocks = new SessionLocks(textStore, textHealth, new Statistics(), 5, 100, Ticker.SYSTEM,
                    new OncePerMinute(Clock.systemUTC()));
            SessionLocks.Lock lock = textLocks.acquire(KEY, List.of("n1"), "…ABC-n1", DATA, VALIDITY);
            assertTrue(lock.held);

            textLocks.release(lock); // no token from the text protocol's add: awaited, by gets and cas

            assertNull(server.get(KEY), "deleted, not left to expire");
            assertTrue(textHealth.isUp("n1"), "the release neither failed nor marked the node down");
            assertEquals(0, textHealth.repairsWaiting());
        }
    }

    @Test
    void aNodeOutOfMemoryThatRefusesTheLockLetsTheRequestGoOnUnlocked() throws Exception {
        // -M: a full memcached refuses new items instead of evicting old ones.
        try (MemcachedServer full = MemcachedServer.start("-M", "-m", "2")) {
            Settings settings = Settings.parse(Map.of("memcachedNodes", full.node("n1"), "sticky", "false"));
            try (SessionStore fullStore = new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM)) {
                fullStore.awaitConnections(5000);
                fillUntilRefused(fullStore);
                NodeHealth fullHealth = new NodeHealth(settings.nodes(), fullStore::isConnected, Clock.systemUTC(),
                        2000);
                Statistics statistics = new Statistics();
                SessionLocks fullLocks = new SessionLocks(fullStore, fullHealth, statistics, 30, 1000, Ticker.SYSTEM,
                        new OncePerMinute(Clock.systemUTC()));

                SessionLocks.Lock lock = assertTimeoutPreemptively(Duration.ofSeconds(10),
                        () -> fullLocks.acquire(KEY, List.of("n1"), "…ABC-n1", DATA, VALIDITY),
                        "acquire returns (it asked the refusing node again and again)");

                assertFalse(lock.held);
                assertEquals(1, statistics.get(Statistics.Counter.LOCK_FAILURES));
                assertTrue(fullHealth.isUp("n1"), "one refused item does not take the node from everyone");
                assertEquals(0, fullHealth.repairsWaiting(), "a refused add left nothing to delete");
            }
        }
    }

    /** Items of shrinking sizes, so that every slab class is full, the lock's included. */
    private static void fillUntilRefused(SessionStore store) throws StoreException {
        int n = 0;
        for (int size : new int[] {500_000, 50_000, 5_000, 500, 50, 10}) {
            byte[] value = new byte[size];
            for (int i = 0; i < 100_000; i++) {
                try {
                    store.set("n1", "fill:" + n++, value, 0);
                } catch (StoreException e) {
                    if (!e.isRefused()) {
                        throw e;
                    }
                    break;
                }
            }
        }
    }
}

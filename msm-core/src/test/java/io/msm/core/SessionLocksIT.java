package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.msm.testkit.MemcachedServer;

/** Lock release against a real memcached: one round trip, and never the lock of a later holder. */
class SessionLocksIT {
    private static final String KEY = "test_lock:ABC-n1";

    private MemcachedServer server;
    private SessionStore store;
    private SessionLocks locks;

    @BeforeEach
    void start() throws Exception {
        server = MemcachedServer.start();
        Settings settings = Settings.parse(Map.of("memcachedNodes", server.node("n1")));
        store = new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM);
        store.awaitConnections(5000);
        NodeHealth health = new NodeHealth(settings.nodes(), store::isConnected, Clock.systemUTC(), 2000);
        locks = new SessionLocks(store, health, new Statistics(), 1, 100, Ticker.SYSTEM);
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
        SessionLocks.Lock lock = locks.acquire(KEY, List.of("n1"), "…ABC-n1");
        assertTrue(lock.held);
        assertNotEquals(0, lock.cas, "the add's CAS token, so that release needs no gets");

        locks.release(lock);

        assertNull(server.get(KEY));
    }

    @Test
    void releasingALockThatExpiredLeavesTheNextHoldersLockAlone() throws Exception {
        SessionLocks.Lock first = locks.acquire(KEY, List.of("n1"), "…ABC-n1");
        Thread.sleep(2100); // lockExpiration 1 s: memcached drops the first lock
        SessionLocks.Lock second = locks.acquire(KEY, List.of("n1"), "…ABC-n1");
        assertTrue(second.held);

        locks.release(first);

        assertArrayEquals(second.token, server.get(KEY), "the second holder's lock is still there");
        locks.release(second);
        assertNull(server.get(KEY));
    }
}

package io.msm.core;

import java.util.Arrays;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;

/**
 * Deletes and markers that could not reach a node, done once it answers again. A node that hung or
 * was cut off comes back holding what it held, and some of that is wrong by then: a session
 * invalidated meanwhile, a copy older than the one written to the backup node, a lock whose
 * {@code add} memcached applied after its request had given up waiting. Until its repairs have run,
 * {@link NodeHealth} does not offer the node to requests.
 */
final class NodeRepairs {
    private static final Logger LOG = Logs.get(NodeRepairs.class);
    /** Beyond this the oldest are dropped: their keys expire on their own, only later. */
    static final int MAX_PENDING = 100_000;

    /** One write, replayed on the node it missed. */
    interface Repair {
        void run(SessionStore store, String node) throws StoreException;
    }

    private final Map<String, Queue<Repair>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean overflowReported = new AtomicBoolean();

    static Repair delete(String key) {
        return (store, node) -> store.delete(node, key);
    }

    /** Deletes a lock key only while it still holds this token, never the lock of a later request. */
    static Repair deleteIfHolding(String key, byte[] token) {
        return (store, node) -> {
            SessionStore.Versioned current = store.gets(node, key);
            if (current != null && Arrays.equals(current.value, token)) {
                store.deleteIfUnchanged(node, key, current.cas);
            }
        };
    }

    static Repair set(String key, byte[] value, int expiry) {
        return (store, node) -> store.set(node, key, value, expiry);
    }

    /** @return repairs waiting, on every node */
    int size() {
        return size.get();
    }

    void add(String node, Repair repair) {
        pending.computeIfAbsent(node, n -> new ConcurrentLinkedQueue<>()).add(repair);
        if (size.incrementAndGet() > MAX_PENDING) {
            for (Queue<Repair> q : pending.values()) {
                if (q.poll() != null) {
                    size.decrementAndGet();
                    break;
                }
            }
            if (overflowReported.compareAndSet(false, true)) {
                LOG.warn("more than {} writes wait for memcached nodes to answer again; the oldest are dropped and"
                        + " their keys expire on their own", MAX_PENDING);
            }
        }
    }

    boolean isPending(String node) {
        Queue<Repair> q = pending.get(node);
        return q != null && !q.isEmpty();
    }

    /**
     * Runs the node's repairs in order; the first that fails stops the run and stays queued.
     *
     * @throws StoreException when the node failed again
     */
    void run(SessionStore store, String node) throws StoreException {
        Queue<Repair> q = pending.get(node);
        if (q == null || q.isEmpty()) {
            return;
        }
        int done = 0;
        Repair r;
        while ((r = q.peek()) != null) {
            r.run(store, node);
            if (q.remove(r)) {
                size.decrementAndGet();
            }
            done++;
        }
        overflowReported.set(false);
        LOG.info("memcached node {} answers again: {} deletes and markers it missed are done", node, done);
    }
}

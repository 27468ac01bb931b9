package io.msm.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
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
 * invalidated meanwhile, a lock whose {@code add} memcached applied after its request had given up
 * waiting. Until the repairs queued while it was down have run, {@link NodeHealth} does not offer
 * the node to requests.
 *
 * <p>Under load every request of an outage queues repairs, and the health check runs them one by
 * one: CI's soak queued 30,000 in a two-second outage and kept the node out of use for 76 s. So a
 * repair of a key already queued is not queued again; what requests queue once the node answers
 * does not hold it back (it runs at the next round); and a node found empty (restarted, flushed)
 * drops them all, since it holds nothing they could correct.
 */
final class NodeRepairs {
    private static final Logger LOG = Logs.get(NodeRepairs.class);
    /** Beyond this the oldest are dropped: their keys expire on their own, only later. */
    static final int MAX_PENDING = 100_000;

    /** One write, replayed on the node it missed. */
    interface Repair {
        void run(SessionStore store, String node) throws StoreException;

        /** @return what it does, the same for two repairs that do the same; null when never the same */
        default String sameAs() {
            return null;
        }

        /**
         * @return true when it needs nothing but the store and node it is given, so that the next
         *     start of the webapp in this JVM can run it ({@link LeftRepairs})
         */
        default boolean portable() {
            return false;
        }
    }

    /** One queued repair; blocking when it was queued while its node was down. */
    private static final class Entry {
        final Repair repair;
        final boolean blocking;
        /** For one the node refused: not tried again before then (wall clock); 0: at the next round. */
        final long retryAt;

        Entry(Repair repair, boolean blocking, long retryAt) {
            this.repair = repair;
            this.blocking = blocking;
            this.retryAt = retryAt;
        }
    }

    /** How long a repair the node refused waits before it is tried again: a full node is asked little. */
    static final long REFUSED_RETRY_MILLIS = 10_000;

    /** A node's repairs in order, and what they do, to queue each at most once. */
    private static final class NodeQueue {
        final Queue<Entry> entries = new ConcurrentLinkedQueue<>();
        /** What is queued, and whether as blocking. */
        final Map<String, Boolean> queued = new ConcurrentHashMap<>();
        final AtomicInteger blocking = new AtomicInteger();
        /**
         * Deletes not done yet, by key: {@link #queued} lets a key go when its run starts, and a run
         * that fails leaves the delete undone. A logout must not be read back meanwhile.
         */
        final Map<String, Integer> deletesLeft = new ConcurrentHashMap<>();
        /** A delete was dropped past {@link #MAX_PENDING}: which key is not known any more. */
        volatile boolean deleteDropped;
    }

    private final Map<String, NodeQueue> pending = new ConcurrentHashMap<>();
    private final AtomicInteger size = new AtomicInteger();
    private final AtomicBoolean overflowReported = new AtomicBoolean();
    private final java.time.Clock clock;
    private final OncePerMinute refusedLines;

    NodeRepairs(java.time.Clock clock) {
        this.clock = clock;
        this.refusedLines = new OncePerMinute(clock);
    }

    /**
     * @param sameAs what it does, null when never the same as another
     * @param portable what {@link Repair#portable} says
     * @return the action, taken for any other repair that does {@code sameAs}
     */
    private static Repair doing(String sameAs, boolean portable, Repair action) {
        return new Repair() {
            @Override
            public void run(SessionStore store, String node) throws StoreException {
                action.run(store, node);
            }

            @Override
            public String sameAs() {
                return sameAs;
            }

            @Override
            public boolean portable() {
                return portable;
            }
        };
    }

    static Repair delete(String key) {
        return doing(deleting(key), true, (store, node) -> store.delete(node, key));
    }

    /**
     * Deletes a missed backup copy unless the marker says a Tomcat cut off from the session's node
     * wrote it there since: then it is the newest copy there is, and the run is late.
     */
    static Repair deleteUnlessMarked(String key, String marker) {
        return doing(deleting(key), true, (store, node) -> {
            if (store.get(node, marker) == null) {
                store.delete(node, key);
            }
        });
    }

    /** Deletes a lock key only while it still holds this token, never the lock of a later request. */
    static Repair deleteIfHolding(String key, byte[] token) {
        return doing(null, true, (store, node) -> {
            SessionStore.Versioned current = store.gets(node, key);
            if (current != null && Arrays.equals(current.value, token)) {
                store.deleteIfUnchanged(node, key, current.cas);
            }
        });
    }

    /** Writes a marker: two of the same key do the same, and the first one queued stays. */
    static Repair set(String key, byte[] value, int expiry) {
        return doing("set " + key + " " + Arrays.hashCode(value) + " " + expiry, true,
                (store, node) -> store.set(node, key, value, expiry));
    }

    /** What must be done before a repair, on another node or none. */
    interface Step {
        void run() throws StoreException;
    }

    /** {@link #set}, after a first step: a marker that the node's flag must cover ({@link BehindFlags}). */
    static Repair setFlagged(String key, byte[] value, int expiry, Step first) {
        // Not portable: its first step is this engine's, on another node.
        return doing("flagged set " + key + " " + Arrays.hashCode(value) + " " + expiry, false, (store, node) -> {
            first.run();
            store.set(node, key, value, expiry);
        });
    }

    /** @return repairs waiting, on every node */
    int size() {
        return size.get();
    }

    /**
     * @return for a stopped engine: the portable repairs still waiting, by node, in order, with what
     *     cannot be handed on (those that need this engine, deletes dropped unknown)
     */
    LeftRepairs left() {
        Map<String, List<Repair>> portable = new LinkedHashMap<>();
        int notPortable = 0;
        boolean droppedDeletes = false;
        for (Map.Entry<String, NodeQueue> node : pending.entrySet()) {
            NodeQueue q = node.getValue();
            droppedDeletes |= q.deleteDropped;
            for (Entry e : q.entries) {
                if (e.repair.portable()) {
                    portable.computeIfAbsent(node.getKey(), n -> new ArrayList<>()).add(e.repair);
                } else {
                    notPortable++;
                }
            }
        }
        return new LeftRepairs(portable, droppedDeletes, notPortable);
    }

    /** @param whileDown true when the node is down: the node is not offered again until this has run */
    void add(String node, Repair repair, boolean whileDown) {
        add(node, repair, whileDown, 0);
    }

    private void add(String node, Repair repair, boolean whileDown, long retryAt) {
        NodeQueue q = pending.computeIfAbsent(node, n -> new NodeQueue());
        String same = repair.sameAs();
        if (same != null) {
            Boolean queuedBlocking = q.queued.putIfAbsent(same, whileDown);
            if (queuedBlocking != null && (queuedBlocking || !whileDown)) {
                return; // the one queued does the same, and holds the node back if this one would
            }
            if (queuedBlocking != null) {
                q.queued.put(same, true); // queued while the node answered; it is down again
            }
        }
        if (whileDown) {
            q.blocking.incrementAndGet();
        }
        if (isDelete(same)) {
            q.deletesLeft.merge(same, 1, Integer::sum);
        }
        q.entries.add(new Entry(repair, whileDown, retryAt));
        if (size.incrementAndGet() > MAX_PENDING) {
            // From the queue that grows: it holds this entry at least, and a node that misses little keeps all.
            Entry dropped = q.entries.poll();
            if (dropped != null) {
                if (isDelete(dropped.repair.sameAs())) {
                    q.deleteDropped = true; // until the node is found empty
                }
                done(q, dropped);
            }
            if (overflowReported.compareAndSet(false, true)) {
                LOG.warn("more than {} writes wait for memcached node {} to answer again; the oldest are dropped and"
                        + " their keys expire on their own. Until the node is found empty (restarted), it is not used"
                        + " as a last resort while its sessions' backup node is out of use too: a logout among the"
                        + " dropped deletes must not come back", MAX_PENDING, node);
            }
        }
    }

    /**
     * @return true when a delete of the key (either kind) is not done on the node yet: queued, being
     *     run, or left by a run that failed
     */
    boolean isDeleteQueued(String node, String key) {
        NodeQueue q = pending.get(node);
        return q != null && q.deletesLeft.containsKey(deleting(key));
    }

    /** @return true when a delete was dropped past {@link #MAX_PENDING} since the node was last found empty */
    boolean droppedDeletes(String node) {
        NodeQueue q = pending.get(node);
        return q != null && q.deleteDropped;
    }

    private static final String DELETING = "delete ";

    /** @param sameAs a repair's {@link Repair#sameAs}, null or not */
    private static boolean isDelete(String sameAs) {
        return sameAs != null && sameAs.startsWith(DELETING);
    }

    /** What every repair that deletes the key does: one such repair is queued at a time. */
    private static String deleting(String key) {
        return DELETING + key;
    }

    /** @return true while repairs queued when the node was down wait */
    boolean isPending(String node) {
        NodeQueue q = pending.get(node);
        return q != null && q.blocking.get() > 0;
    }

    private void done(NodeQueue q, Entry e) {
        size.decrementAndGet();
        if (e.blocking) {
            q.blocking.decrementAndGet();
        }
        String same = e.repair.sameAs();
        if (same != null) {
            q.queued.remove(same);
            if (isDelete(same)) {
                q.deletesLeft.computeIfPresent(same, (k, n) -> n == 1 ? null : n - 1);
            }
        }
    }

    /**
     * Runs the node's repairs in order; the first that fails stops the run and stays queued, unless
     * the node refused its item (out of memory): it would be refused at every round and hold back
     * the others, so it goes to the tail, holding the node back no more.
     *
     * @throws StoreException when the node failed again
     */
    void run(SessionStore store, String node) throws StoreException {
        NodeQueue q = pending.get(node);
        if (q == null || q.entries.isEmpty()) {
            return;
        }
        // Those queued so far: what requests queue meanwhile waits for the next round, so a round ends.
        int round = q.entries.size();
        int done = 0;
        int refused = 0;
        boolean afterOutage = false;
        Entry e;
        long now = clock.millis();
        int stored = 0;
        while (done < round && (e = q.entries.peek()) != null) {
            // Not due yet, unless the wall clock stepped back past the wait.
            if (e.retryAt != 0 && now < e.retryAt && e.retryAt - now <= REFUSED_RETRY_MILLIS) {
                if (q.entries.remove(e)) {
                    q.entries.add(e); // refused lately: its turn comes at a later round
                }
                done++;
                continue;
            }
            String same = e.repair.sameAs();
            if (same != null) {
                q.queued.remove(same); // queued again meanwhile: runs again, after this one
            }
            boolean refusedNow = false;
            try {
                e.repair.run(store, node);
            } catch (StoreException failed) {
                if (!failed.isRefused()) {
                    throw failed;
                }
                refusedNow = true;
                refused++;
            }
            if (!refusedNow) {
                stored++;
            }
            afterOutage |= e.blocking;
            if (q.entries.remove(e)) {
                done(q, e);
                if (refusedNow) {
                    // Again at the tail, holding nothing back: a removal marker dropped could let a late
                    // write bring a logged-out session back. Tried again until the node takes it.
                    add(node, e.repair, false, now + REFUSED_RETRY_MILLIS);
                }
            }
            done++;
        }
        overflowReported.set(false);
        if (refused > 0 && refusedLines.allow(node)) {
            LOG.warn("memcached node {} refuses {} of the deletes and markers it missed (out of memory): they are"
                    + " tried again every 10 s, behind the others; this line repeats at most once a minute",
                    node, refused);
        }
        if (afterOutage) {
            LOG.info("memcached node {} answers again: {} deletes and markers it missed are done", node, stored);
        } else {
            // Writes that missed a node that stayed in use (a timeout): no outage to report at each round.
            LOG.debug("memcached node {}: {} deletes and markers it missed are done", node, stored);
        }
    }

    /** The node came back empty: nothing it holds is left to correct. */
    void drop(String node) {
        NodeQueue q = pending.get(node);
        if (q == null) {
            return;
        }
        int dropped = 0;
        Entry e;
        while ((e = q.entries.poll()) != null) {
            done(q, e);
            dropped++;
        }
        q.deleteDropped = false; // what it held is gone, the logged-out sessions with it
        if (dropped > 0) {
            LOG.info("memcached node {} came back empty: the {} deletes and markers it missed are moot", node,
                    dropped);
        }
    }
}

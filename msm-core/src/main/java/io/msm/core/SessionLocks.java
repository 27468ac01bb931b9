package io.msm.core;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;

/**
 * Cluster-wide session locks for non-sticky mode: a lock is a memcached {@code add} of the lock key
 * with an expiry ({@code lockExpiration}), so a crashed holder frees it by itself. Waiters back off
 * with jitter until {@code lockWaitTimeout}; a waiter past it goes on without the lock, and says so,
 * because its store stays conditional and merging. A lock is released only by its holder: the key
 * is deleted only while it still holds the holder's item (its CAS token from the {@code add}, or,
 * where the protocol gives none, its token value).
 */
final class SessionLocks {
    private static final Logger LOG = Logs.get(SessionLocks.class);
    private static final long FIRST_PAUSE_MILLIS = 2;
    private static final long MAX_PAUSE_MILLIS = 50;

    /** One request's claim on one session. */
    static final class Lock {
        final String key;
        final String node;
        final byte[] token;
        final boolean held;
        /** The CAS token of the lock item this request added; 0 when unknown. */
        final long cas;
        /** The session read right behind the add on {@link #node}, while held; taken once, by the load. */
        private SessionStore.Pair read;
        /** When it was taken ({@link Ticker#nanoTime}), while held. */
        final long acquiredNanos;
        /** The session, as logs name it. */
        final String sessionForLog;

        Lock(String key, String node, byte[] token, boolean held, long cas) {
            this(key, node, token, held, cas, null, 0, null);
        }

        Lock(String key, String node, byte[] token, boolean held, long cas, SessionStore.Pair read,
                long acquiredNanos, String sessionForLog) {
            this.key = key;
            this.node = node;
            this.token = token;
            this.held = held;
            this.cas = cas;
            this.read = read;
            this.acquiredNanos = acquiredNanos;
            this.sessionForLog = sessionForLog;
        }

        /** @return what was read on {@code fromNode} under this lock, once; else null */
        SessionStore.Pair takeRead(String fromNode) {
            SessionStore.Pair r = read;
            read = null;
            return held && fromNode.equals(node) ? r : null;
        }
    }

    private final SessionStore store;
    private final NodeHealth health;
    private final Statistics statistics;
    private final int expirySeconds;
    private final long waitMillis;
    private final Ticker ticker;
    private final String owner = UUID.randomUUID().toString();
    private final AtomicLong sequence = new AtomicLong();
    /** A client can make lock waits time out at will (parallel requests of its own session). */
    private final OncePerMinute logLimit;

    SessionLocks(SessionStore store, NodeHealth health, Statistics statistics, int expirySeconds, long waitMillis,
            Ticker ticker, OncePerMinute logLimit) {
        this.ticker = ticker;
        this.logLimit = logLimit;
        this.store = store;
        this.health = health;
        this.statistics = statistics;
        this.expirySeconds = expirySeconds;
        this.waitMillis = waitMillis;
    }

    /**
     * @param nodes where the lock may live, first choice first (the session's node, then its backup)
     * @return a held lock, or one that is not held: the wait timed out, or no node answers
     */
    Lock acquire(String key, List<String> nodes, String sessionForLog) {
        return acquire(key, nodes, sessionForLog, null, null);
    }

    /**
     * As {@link #acquire(String, List, String)}; the first attempt on the first node also reads
     * {@code versionedKey} and {@code companionKey} there, in the same round trip, for the lock's
     * {@link Lock#takeRead}: a request that finds its session unlocked waits for memcached once.
     */
    Lock acquire(String key, List<String> nodes, String sessionForLog, String versionedKey, String companionKey) {
        byte[] token = (owner + ":" + sequence.incrementAndGet()).getBytes(StandardCharsets.US_ASCII);
        long deadline = ticker.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        long pause = FIRST_PAUSE_MILLIS;
        boolean waited = false;
        while (true) {
            String node = firstUp(nodes);
            if (node == null) {
                statistics.increment(Statistics.Counter.LOCK_FAILURES);
                if (logLimit.allow("lock failure")) {
                    LOG.warn("session {} is not locked: no memcached node for its lock answers; LOCK_FAILURES counts"
                            + " each such request; this line repeats at most once a minute", sessionForLog);
                }
                return new Lock(key, null, token, false, 0);
            }
            try {
                SessionStore.Pair read = null;
                Long cas;
                if (versionedKey != null && !waited && node.equals(nodes.get(0))) {
                    long start = ticker.nanoTime();
                    SessionStore.LockedRead r = store.addVersionedThenRead(node, key, token, expirySeconds,
                            versionedKey, companionKey);
                    // What the load's own read recorded: a node answering again after an outage is
                    // noted before the load asks whether its copy may be behind the backup's.
                    health.recordSuccess(node, ticker.nanoTime() - start);
                    cas = r.lockCas;
                    read = r.read;
                } else {
                    cas = store.addVersioned(node, key, token, expirySeconds);
                }
                if (cas != null) {
                    statistics.increment(Statistics.Counter.LOCKS_ACQUIRED);
                    if (read != null) {
                        statistics.increment(Statistics.Counter.LOCKS_WITH_READ);
                    }
                    return new Lock(key, node, token, true, cas, read, ticker.nanoTime(), sessionForLog);
                }
            } catch (StoreException e) {
                if (e.isRefused()) {
                    // The node answers but stores nothing (out of memory with -M): it stays up, so asking
                    // it again would never end. The request goes on unlocked; its changes are merged.
                    statistics.increment(Statistics.Counter.LOCK_FAILURES);
                    if (logLimit.allow("lock refused " + node)) {
                        LOG.warn("session {} is not locked: memcached node {} refused the lock ({}); requests go on"
                                + " unlocked and their changes are merged; LOCK_FAILURES counts each such request;"
                                + " this line repeats at most once a minute", sessionForLog, node, e.getMessage());
                    }
                    return new Lock(key, null, token, false, 0);
                }
                health.failed(node, e);
                // memcached may still apply the add once it answers: a lock nobody would release
                health.repairLater(node, NodeRepairs.deleteIfHolding(key, token));
                continue;
            }
            if (!waited) {
                waited = true;
                statistics.increment(Statistics.Counter.LOCK_WAITS); // counted as it starts: a stuck wait shows
            }
            long left = deadline - ticker.nanoTime();
            if (left <= 0) {
                statistics.increment(Statistics.Counter.LOCK_TIMEOUTS);
                if (logLimit.allow("lock timeout")) {
                    LOG.warn("session {} still locked by another request after lockWaitTimeout={} ms; this request goes"
                            + " on unlocked and its changes are merged into the stored session; LOCK_TIMEOUTS counts"
                            + " each such request; this line repeats at most once a minute", sessionForLog, waitMillis);
                }
                return new Lock(key, node, token, false, 0);
            }
            sleep(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1,
                    pause / 2 + ThreadLocalRandom.current().nextLong(pause / 2 + 1)));
            pause = Math.min(MAX_PAUSE_MILLIS, pause * 2);
        }
    }

    /**
     * Deletes the lock key if this request still holds it; a lock that expired meanwhile is left
     * alone. With the add's CAS token the delete is sent and not awaited: the request does not wait
     * for memcached a second time, and this Tomcat's next request for the session, sent after it on
     * the same connection, finds it done.
     */
    void release(Lock lock) {
        if (!lock.held) {
            return;
        }
        outlived(lock);
        if (lock.cas != 0) {
            // Deletes the item this request added, never a successor's lock.
            store.deleteIfUnchangedLater(lock.node, lock.key, lock.cas, e -> releaseFailed(lock, e));
            return;
        }
        try {
            SessionStore.Versioned current = store.gets(lock.node, lock.key);
            if (current != null && Arrays.equals(current.value, lock.token)) {
                store.deleteIfUnchanged(lock.node, lock.key, current.cas);
            }
        } catch (StoreException e) {
            releaseFailed(lock, e);
        }
    }

    /**
     * memcached let a lock held longer than {@code lockExpiration} go: from then on, another Tomcat's
     * locking request could take it and run alongside this one, and one of their changes to the same
     * attribute was lost in the merge. Said, since nothing else shows it.
     */
    private void outlived(Lock lock) {
        long heldMillis = TimeUnit.NANOSECONDS.toMillis(ticker.nanoTime() - lock.acquiredNanos);
        if (heldMillis <= TimeUnit.SECONDS.toMillis(expirySeconds)) {
            return;
        }
        statistics.increment(Statistics.Counter.LOCKS_OUTLIVED);
        if (logLimit.allow("lock outlived")) {
            LOG.warn("session {} was locked for {} ms, longer than lockExpiration={} s: memcached dropped the lock"
                    + " meanwhile, so another Tomcat's locking request may have run alongside this Tomcat's and one of"
                    + " their changes to an attribute may be lost. A lock is held by a locking request (a long upload,"
                    + " an async request until complete()), handed on to this Tomcat's next locking request of the"
                    + " session that waits for it, and kept while requests that do not lock use a copy that could"
                    + " not be stored; raise lockExpiration above what your locking requests take, or leave long ones"
                    + " out with lockingMode=\"uriPattern:...\"; LOCKS_OUTLIVED counts each; this line repeats at"
                    + " most once a minute", lock.sessionForLog, heldMillis, expirySeconds);
        }
    }

    private void releaseFailed(Lock lock, StoreException e) {
        health.failed(lock.node, e);
        health.repairLater(lock.node, NodeRepairs.deleteIfHolding(lock.key, lock.token));
        LOG.info("a session lock on node {} could not be released ({}); released once the node answers again",
                lock.node, e.getMessage());
    }

    private String firstUp(List<String> nodes) {
        for (String node : nodes) {
            if (node != null && health.isUp(node)) {
                return node;
            }
        }
        return null;
    }

    private void sleep(long millis) {
        try {
            ticker.sleep(Math.max(1, millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package io.msm.core;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;

/**
 * Sticky mode's writes: a session's backup after a request (skipped when memcached holds it, a touch
 * when only its expiry must move, a set otherwise) and its deletion when it ends. Every write of one
 * session goes through {@link BackupService} in order; a removal is never overtaken by a late backup.
 */
final class StickyBackups {
    private static final Logger LOG = Logs.get(StickyBackups.class);

    private final SessionStore store;
    private final NodeHealth health;
    private final BackupService backups;
    private final SessionCodec codec;
    private final Expiry expiry;
    private final Statistics statistics;
    private final Ticker ticker;
    private final SessionNames names;
    /** Where a non-sticky Tomcat of this webapp keeps a session's other copies, while the webapp switches modes. */
    private final NonStickyKeys nonStickyKeys;
    private final boolean async;
    private final long timeoutMillis;
    /** A logout's wait for its delete: a store of the session queued before it, then the delete itself. */
    private final long removalWaitMillis;
    /**
     * Ids of sessions removed here whose copies are not deleted yet, with the number of removals
     * still to run. A lookup right after a logout or an expiry (the same request asks again) must
     * not load the copy back.
     */
    private final Map<SessionId, Integer> beingRemoved = new ConcurrentHashMap<>();

    /**
     * Ids a session held here was renamed from (a login, a move), with the session's state, until
     * the copy under the old id is deleted: that happens only once the new id's copy is stored,
     * behind the session's queued backups. Meanwhile a request with the old id must not load that
     * copy: the id from before a login stops working at once, and a session logged out under its new
     * id must not come back under its old one.
     */
    private final Map<SessionId, SessionState> renamedFrom = new ConcurrentHashMap<>();

    /** @return sessions whose removal is queued or running */
    int beingRemoved() {
        return beingRemoved.size();
    }

    /** @return ids renamed from whose copy may still be in memcached */
    int renamedFrom() {
        return renamedFrom.size();
    }
    private final OversizedSessions oversized;
    private final OncePerMinute logLimit;
    /** Null without {@code compatibility}. */
    private final Msm2Copies msm2;
    /**
     * The sessions that keep their attributes' bytes: the busy ones, compared again within
     * {@link #busyMillis} of their last comparison, until they go {@link #busyMillis} (sync) or
     * {@link #ASYNC_IDLE_MILLIS} (async) without one; within {@link KeptBlocks}' bounds.
     */
    private final KeptBlocks kept;
    /**
     * Async mode compares a session changed request after request once per 100 ms window: one
     * compared again this soon is such a session. Sync mode compares at every request's end: a
     * session with a request this soon after the last is in use.
     */
    static final long ASYNC_BUSY_MILLIS = 2 * DeferredComparisons.CHANGE_WINDOW_MILLIS;
    static final long ASYNC_IDLE_MILLIS = 10_000;
    static final long SYNC_BUSY_MILLIS = 60_000;
    private final long busyMillis;

    StickyBackups(SessionStore store, NodeHealth health, BackupService backups, SessionCodec codec, Expiry expiry,
            Statistics statistics, Ticker ticker, Clock clock, SessionNames names, Settings settings, Msm2Copies msm2) {
        this.msm2 = msm2;
        this.store = store;
        this.health = health;
        this.backups = backups;
        this.codec = codec;
        this.expiry = expiry;
        this.statistics = statistics;
        this.ticker = ticker;
        this.names = names;
        this.nonStickyKeys = new NonStickyKeys(names, settings.nodes());
        this.async = settings.backupAsync();
        this.timeoutMillis = settings.backupTimeoutMillis();
        this.removalWaitMillis = 2 * settings.operationTimeoutMillis();
        this.oversized = new OversizedSessions(codec, statistics, null);
        this.logLimit = new OncePerMinute(clock);
        this.busyMillis = async ? ASYNC_BUSY_MILLIS : SYNC_BUSY_MILLIS;
        // Sessions used once, or now and then, keep nothing: their heap is what it is without msm's bytes.
        this.kept = new KeptBlocks(async ? ASYNC_IDLE_MILLIS : SYNC_BUSY_MILLIS);
    }


    private long now() {
        return expiry.now();
    }

    /** @return sessions that keep their attributes' bytes */
    int keepingBytes() {
        return kept.size();
    }

    /** Called now and then: sessions idle past the limit give their bytes up even when no other is busy. */
    void dropIdleBytes() {
        kept.dropIdle(expiry.now());
    }

    /** @return true when memcached's copy under this id must not be loaded: removed or renamed here */
    boolean isBeingRemoved(SessionId id) {
        return beingRemoved.containsKey(id) || renamedFrom.containsKey(id);
    }

    /**
     * Called before the old id leaves this Tomcat's memory, so no lookup finds the copy in between.
     * Kept whether or not memcached is known to hold a copy under it: a set that timed out may have
     * landed, and a parallel request may be encoding one. The session's next store under the id it
     * bears deletes it ({@link #deleteOldIds}).
     *
     * @param to the new id; null when it does not parse (it then has no copy to protect)
     */
    void renamed(SessionId from, SessionId to, SessionState state) {
        if (to == null) {
            return; // not an id msm stores under: the session is never stored, and never removed here
        }
        renamedFrom.remove(to, state); // renamed back to it (a node that came back): its own id again
        renamedFrom.put(from, state);
    }

    /**
     * Deletes the session's old ids but those in {@code deleted}, then stops refusing them: in that
     * order, so that no load finds a copy in between. An old id the session was renamed back to
     * meanwhile (a node that came back) is its own id again, whose copy the delete may have taken:
     * the session is then stored anew in full.
     *
     * @param stored the id just stored under, left alone: among the old ids, it is one a rename made
     *     since (a second login while these deletes ran), whose copy is in memcached and must stay
     *     refused; null after a removal
     */
    private void deleteOldIds(SessionState state, Collection<SessionId> deleted, SessionId stored) {
        if (renamedFrom.isEmpty()) {
            return;
        }
        for (Map.Entry<SessionId, SessionState> e : renamedFrom.entrySet()) {
            SessionId old = e.getKey();
            if (e.getValue() != state || old.equals(stored)) {
                continue;
            }
            if (!deleted.contains(old)) {
                delete(old);
            }
            if (!renamedFrom.remove(old, state)) {
                state.backupMissed();
            }
        }
    }

    /**
     * At stop, after the last backups ran: what is not deleted yet becomes repairs, which the next
     * start of the webapp does ({@link LeftRepairs}), since no manager refuses those ids then: the
     * copies under old ids whose session's new id was not stored, and the sessions whose removal
     * the stop dropped.
     */
    void queueUndoneDeletes() {
        java.util.Set<SessionId> undone = new java.util.HashSet<>(renamedFrom.keySet());
        undone.addAll(beingRemoved.keySet());
        for (SessionId id : undone) {
            String node = id.nodeId();
            if (health.isKnown(node)) {
                for (String key : keysOf(id)) {
                    health.repairLater(node, NodeRepairs.delete(key));
                }
            }
        }
    }

    /** @return every key a copy of the session may have on its node: msm's, the clear one, 2.3.2's */
    private List<String> keysOf(SessionId id) {
        List<String> keys = new ArrayList<>(3);
        keys.add(names.of(id));
        String clearName = names.beforeEncryption("", id);
        if (clearName != null) {
            keys.add(clearName);
        }
        if (msm2 != null && !msm2.sharesKey()) {
            keys.add(msm2.key(id));
        }
        return keys;
    }

    /** Called with the session's {@code backupOrder} held, so its backups go out in snapshot order. */
    void backUp(SessionSnapshot snapshot, SessionState state) {
        SessionId id = snapshot.id();
        // Before encoding: a request ending meanwhile sees this comparison and does not start another.
        long now = expiry.now();
        long lastCompared = state.lastComparedMillis;
        state.lastComparedMillis = now;
        state.changePending = false;
        EncodedBlocks blocks = state.blocks; // read once: KeptBlocks may drop it meanwhile
        if (blocks == null && now - lastCompared < busyMillis && !state.removed) {
            // Reusing what did not change is worth the memory where encodes come often: a session in
            // use in sync mode (an encode at every request's end), one changed back to back in async mode.
            blocks = new EncodedBlocks();
            state.blocks = blocks;
        }
        byte[] payload = codec.encode(snapshot.content(), blocks);
        if (blocks != null) {
            kept.used(state, blocks, payload.length, now);
        }
        long fingerprint = SessionCodec.fingerprint(payload, snapshot);
        int maxInactive = snapshot.maxInactiveInterval();
        long refreshMillis = Expiry.refreshSeconds(maxInactive) * 1000L;
        // Compared with the newest content on its way to memcached too: a request that puts back what
        // memcached still holds must not be skipped while an older change waits to overwrite it.
        long queued = state.queuedFingerprint();
        // Not after its node came back empty since it was stored: memcached no longer holds it, and
        // the adapter's background run may reach it only later (or a stop first).
        boolean unchanged = fingerprint == (queued != 0 ? queued : state.storedFingerprint)
                && id.equals(state.storedUnderId) && state.nodeEpoch == health.epoch(id.nodeId());
        long sinceRefresh = now - state.lastRefreshMillis; // negative after the wall clock stepped back
        if (unchanged && sinceRefresh < refreshMillis && sinceRefresh >= 0) {
            statistics.increment(Statistics.Counter.BACKUPS_SKIPPED_UNCHANGED);
            return;
        }
        String node = id.nodeId();
        if (!health.isUp(node)) {
            missedWhileDown(id, state);
            return;
        }
        byte[] frame = codec.frame(snapshot, payload);
        if (oversized.refuse(snapshot, payload, frame, state, "it stays in this Tomcat's memory")) {
            state.backupMissed();
            return;
        }
        if (!unchanged) {
            state.queued(fingerprint);
        }
        int exp = expiry.sticky(maxInactive);
        // 2.3.2 judges expiry by the times in its copy, so a touch would not do: its copy is set again.
        byte[] theirs = msm2 != null && msm2.writes() ? msm2.encode(snapshot) : null;
        if (theirs != null && theirs != Msm2Copies.UNWRITABLE && msm2.sharesKey()) {
            frame = theirs; // one key: 2.3.2's format, which both read
            theirs = null;
            unchanged = false;
        }
        if (async) {
            backups.submit(state, new StoreJob(id, frame, theirs, exp, fingerprint, unchanged, state, null));
        } else if (unchanged) {
            await(backups.submit(state, new StoreJob(id, frame, theirs, exp, fingerprint, true, state, null)), id);
        } else {
            storeWhileWaiting(id, frame, theirs, exp, fingerprint, state);
        }
    }

    private void missedWhileDown(SessionId id, SessionState state) {
        String node = id.nodeId();
        statistics.increment(Statistics.Counter.BACKUPS_FAILED);
        state.backupMissed();
        // Keyed by known nodes only: a Tomcat that takes client ids over can hold sessions of made-up nodes.
        if (logLimit.allow(health.isKnown(node) ? "down " + node : "unknown node")) {
            LOG.warn("session {} not backed up: memcached node {} is down. Sessions whose node is down stay in"
                    + " this Tomcat's memory and move to a node that answers at their next request; BACKUPS_FAILED"
                    + " counts each missed backup ({} so far); this line repeats at most once a minute",
                    id.masked(), node, statistics.get(Statistics.Counter.BACKUPS_FAILED));
        }
    }

    /**
     * Deletes an ended session's copies, after any backup still queued for it.
     *
     * @param untilDeleted true for a request's logout: its answer waits (bounded) for the delete, in
     *     both backup modes, so that a Tomcat dying right after a logout leaves no copy that another
     *     Tomcat would load and serve as logged in. An expiry found by the background thread does not
     *     wait: its copy expires in memcached by itself, and thousands may end in one run.
     */
    void remove(SessionId id, SessionState state, boolean untilDeleted) {
        state.removed = true; // a store of it still queued, or still being encoded, is dropped
        kept.forget(state);
        if (!untilDeleted) {
            submitRemoval(id, state);
            return;
        }
        Future<Void> deleted;
        // A parallel request may be sending its set right now (sessionBackupAsync="false"), past its
        // own look at removed: the delete is queued once that set is out, so that it lands after it.
        synchronized (state.backupOrder) {
            deleted = submitRemoval(id, state);
        }
        if (!waitFor(deleted, removalWaitMillis, id) && logLimit.allow("logout wait")) {
            LOG.info("session {} is still being deleted from memcached after {} ms (a node that hangs, or a long"
                    + " backup queue); the logout's answer goes out; this line repeats at most once a minute",
                    id.masked(), removalWaitMillis);
        }
    }

    /** Counted per removal, so that an id stays refused until the last removal of it has run. */
    private Future<Void> submitRemoval(SessionId id, SessionState state) {
        beingRemoved.merge(id, 1, Integer::sum);
        return backups.submit(state, new RemovalJob(id, state));
    }

    /**
     * {@code sessionBackupAsync="false"}: the request thread sends the set itself and waits for the
     * answer up to {@code sessionBackupTimeout}; a backup thread waits for the rest. Waiting
     * requests so never queue behind the few backup threads.
     */
    private void storeWhileWaiting(SessionId id, byte[] frame, byte[] theirs, int exp, long fingerprint,
            SessionState state) {
        if (state.removed) {
            return;
        }
        SessionStore.Sent sent;
        try {
            sent = store.send(id.nodeId(), names.of(id), frame, exp);
        } catch (StoreException e) {
            new StoreJob(id, frame, theirs, exp, fingerprint, false, state, null).failed(e);
            return;
        }
        if (state.removed) {
            // Removed while this request encoded it: its deletion may have run before this set.
            submitRemoval(id, state);
            return;
        }
        StoreJob job = new StoreJob(id, frame, theirs, exp, fingerprint, false, state, sent);
        if (sent.awaitAnswer(timeoutMillis)) {
            job.run();
        } else {
            statistics.increment(Statistics.Counter.BACKUP_WAITS_TIMED_OUT);
            LOG.debug("backup of session {} still running after sessionBackupTimeout={} ms; the request goes on",
                    id.masked(), timeoutMillis);
            backups.submit(state, job);
        }
    }

    private void await(Future<Void> done, SessionId id) {
        if (!waitFor(done, timeoutMillis, id)) {
            statistics.increment(Statistics.Counter.BACKUP_WAITS_TIMED_OUT);
            LOG.debug("backup of session {} still running after sessionBackupTimeout={} ms; the request goes on",
                    id.masked(), timeoutMillis);
        }
    }

    /** @return false when {@code millis} ran out first; an interrupt or the job's failure ends the wait too */
    private static boolean waitFor(Future<Void> done, long millis, SessionId id) {
        try {
            done.get(millis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("backup or deletion of session {} failed", id.masked(), e.getCause());
        }
        return true;
    }

    private void delete(SessionId id) {
        String node = id.nodeId();
        if (!health.isKnown(node)) {
            return;
        }
        if (msm2 != null) {
            msm2.delete(store, health, node, id);
        }
        try {
            String clearName = names.beforeEncryption("", id);
            if (clearName != null) {
                // Switching encryption on: a copy left under the clear name would be loaded after this
                // logout, when the sealed one is gone. Queued for the node's return when it fails.
                deleteOrRepairLater(node, clearName);
            }
            statistics.increment(health.deleteOrRepairLater(store, node, names.of(id))
                    ? Statistics.Counter.DELETES : Statistics.Counter.DELETES_DEFERRED);
        } catch (StoreException e) {
            statistics.increment(Statistics.Counter.DELETE_FAILURES);
            LOG.info("session {} could not be deleted from memcached ({}); deleted once node {} answers again",
                    id.masked(), e.getMessage(), node);
        } finally {
            if (!Thread.currentThread().isInterrupted()) { // else each would fail, and mark its node down
                deleteNonStickyCopies(id);
            }
        }
    }

    /**
     * While a webapp switches modes, non-sticky Tomcats keep a session they served with a validity record
     * and a backup copy on the next node (an id they made has no route, so a sticky balancer sends it to any
     * Tomcat). A logout or a rename here that left them would have the old id served, logged in, from the
     * backup copy. Asked at every delete, as no Tomcat can tell reliably that none of the cluster ran
     * non-sticky lately: three deletes more at a logout, a login or an expiry, none at a request.
     */
    private void deleteNonStickyCopies(SessionId id) {
        deleteWhileUp(id.nodeId(), nonStickyKeys.validity(id));
        String backup = nonStickyKeys.backupNode(id.nodeId());
        if (backup != null && health.isKnown(backup)) {
            deleteWhileUp(backup, nonStickyKeys.backup(id));
            deleteWhileUp(backup, nonStickyKeys.backupValidity(id));
        }
    }

    /**
     * Not queued for a node that is down: its repairs keep it out of use until they ran, and these copies
     * exist only while a webapp switches modes, and expire.
     */
    private void deleteWhileUp(String node, String key) {
        if (health.isUp(node)) {
            try {
                store.delete(node, key);
            } catch (StoreException e) {
                health.failed(node, e);
            }
        }
    }

    private void deleteOrRepairLater(String node, String key) {
        try {
            health.deleteOrRepairLater(store, node, key);
        } catch (StoreException e) {
            // deleted once the node answers again, as the session's own copy
        }
    }

    /** Deletes a removed session's copies; a store that comes while it waits does not replace it. */
    private final class RemovalJob implements BackupService.Job {
        /** One per removal merged into this job: usually one, more after a rename or a repeat. */
        private final List<SessionId> ids = new ArrayList<>(2);
        private final SessionState state;

        RemovalJob(SessionId id, SessionState state) {
            this.ids.add(id);
            this.state = state;
        }

        @Override
        public boolean removes() {
            return true;
        }

        @Override
        public BackupService.Job absorb(BackupService.Job waiting) {
            if (waiting instanceof RemovalJob) {
                ((RemovalJob) waiting).ids.addAll(ids); // both ids deleted, both leave beingRemoved
                return waiting;
            }
            return this;
        }

        @Override
        public void run() {
            List<SessionId> deleted = new ArrayList<>(ids);
            SessionId stale = state.storedUnderId;
            if (stale != null && !ids.contains(stale)) {
                deleted.add(stale);
            }
            try {
                for (SessionId id : deleted) {
                    delete(id);
                }
                state.storedFingerprint = 0;
                state.storedUnderId = null;
            } finally {
                // Deleted, or a repair keeps the node unused until it is.
                for (SessionId id : ids) {
                    beingRemoved.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
                }
                // Its other old ids: a copy that landed after its set timed out, or a parallel request's.
                deleteOldIds(state, deleted, null);
            }
        }
    }

    /** Writes one session to its node; on failure the session stays in memory, flagged for a retry. */
    private final class StoreJob implements BackupService.Job {
        private final SessionId id;
        private final String node;
        private final byte[] frame;
        /** 2.3.2's copy, written after msm's ({@code compatibility="msm2"}); {@link Msm2Copies#UNWRITABLE}; else null. */
        private final byte[] theirs;
        private final int expiry;
        private final long fingerprint;
        private final boolean touchOnly;
        private final SessionState state;
        /** A set the request thread sent already; null when this job writes. */
        private final SessionStore.Sent sent;
        private final long created = ticker.nanoTime();

        @Override
        public SessionId session() {
            return id;
        }
        private final long seq;

        StoreJob(SessionId id, byte[] frame, byte[] theirs, int expiry, long fingerprint, boolean touchOnly,
                SessionState state, SessionStore.Sent sent) {
            this.id = id;
            this.node = id.nodeId();
            this.frame = frame;
            this.theirs = theirs;
            this.expiry = expiry;
            this.fingerprint = fingerprint;
            this.touchOnly = touchOnly;
            this.state = state;
            this.sent = sent;
            this.seq = ++state.lastBackupSeq; // constructed while state.backupOrder is held
        }

        @Override
        public void run() {
            long start = sent == null ? ticker.nanoTime() : created;
            if (sent == null && (state.removed || state.isOutdated(seq))) {
                return; // invalidated or expired since, or newer content is there already
            }
            if (sent == null && !health.isUp(node)) {
                // Marked down while this waited: each try would hold a backup thread for operationTimeout,
                // and the backups and logouts of sessions on other nodes would queue behind them.
                missedWhileDown(id, state);
                return;
            }
            long epoch = health.epoch(node);
            try {
                String key = names.of(id);
                // A touch that finds nothing (evicted, or the node restarted empty) stores in full, and
                // so does one that took the place of a waiting store: memcached does not hold this yet.
                boolean holdsThis = state.storedFingerprint == fingerprint && id.equals(state.storedUnderId);
                boolean touched = touchOnly && holdsThis && store.touch(node, key, expiry);
                if (sent != null) {
                    store.finish(sent);
                } else if (!touched) {
                    store.set(node, key, frame, expiry);
                }
                if (msm2 != null) {
                    msm2.afterStore(store, node, id, theirs, expiry);
                    if (state.removed) {
                        msm2.delete(store, health, node, id); // removed while this wrote: no copy outlives it
                    }
                }
                long elapsed = ticker.nanoTime() - start;
                health.recordSuccess(node, elapsed);
                statistics.addBackupNanos(elapsed);
                statistics.increment(touched ? Statistics.Counter.BACKUPS_TOUCHED : Statistics.Counter.BACKUPS_STORED);
                state.nodeEpoch = epoch;
                SessionId stale = state.recordStored(seq, id, fingerprint, now());
                if (!stale.equals(id)) {
                    delete(stale); // or a repair keeps the node unused until it is
                }
                // Not after a store under an id the session has left since (one that ran late): a store
                // of a later old id may still be queued, and its copy must stay refused.
                if (renamedFrom.get(id) != state) {
                    deleteOldIds(state, Collections.singletonList(stale), id);
                }
            } catch (StoreException e) {
                failed(e);
            }
        }

        void failed(StoreException e) {
            health.failed(node, e);
            state.backupMissed();
            statistics.increment(Statistics.Counter.BACKUPS_FAILED);
            if (e.isRefused()) {
                // One session's item, not the node: other sessions go on being stored there.
                statistics.increment(Statistics.Counter.ITEMS_REFUSED);
                if (logLimit.allow("refused " + node)) {
                    LOG.warn("backup of session {} refused ({}); it stays in this Tomcat's memory, memcached node {}"
                            + " stays in use. memcached deleted the copy it held, so a failover before the session's"
                            + " next backup there loses it. ITEMS_REFUSED counts each such backup; this line repeats"
                            + " at most once a minute", id.masked(), e.getMessage(), node);
                }
                return;
            }
            // Every backup in flight when a node dies fails: one line a minute per node says it.
            if (logLimit.allow("failed " + node)) {
                LOG.warn("backup of session {} failed ({}); it stays in this Tomcat's memory and is stored again"
                        + " on a node that answers; BACKUPS_FAILED counts each ({} so far); this line repeats at most"
                        + " once a minute", id.masked(), e.getMessage(),
                        statistics.get(Statistics.Counter.BACKUPS_FAILED));
            }
        }
    }
}

package io.msm.core;

import java.util.Arrays;
import java.util.Map;

import org.slf4j.Logger;

/**
 * Non-sticky mode's reads: a session comes from its node, or from the backup copy while the node is
 * down, lost it, or answers again after an outage during which the backup was written (then the
 * node gets the backup's copy back). A session removed or idle-expired anywhere is not loaded.
 */
final class NonStickyLoader {
    private static final Logger LOG = Logs.get(NonStickyLoader.class);
    /** For a marker whose session's timeout cannot be read: a day outlives any usual copy. */
    private static final int UNKNOWN_TIMEOUT_SECONDS = 86_400;
    /** What a restore of the node's copy returns when a logout deleted the session meanwhile (tokens are never negative). */
    private static final long REMOVED_MEANWHILE = -1;
    /** What a restore of the node's copy returns when it did not finish and knows no token. */
    private static final long NOT_RESTORED = -2;

    private final SessionStore store;
    private final NodeHealth health;
    private final NonStickyKeys keys;
    private final SessionCodec codec;
    private final Expiry expiry;
    private final Statistics statistics;
    private final ExpiryWatch expiryWatch;
    private final ClusterWriter cluster;
    private final BackupService backups;
    private final Ticker ticker;
    private final NearCopies nearCopies;
    private final MissingSessions missing;
    private final BackupMarkers markers;
    private final OncePerMinute logLimit;
    private final AccessRecords accessRecords;
    private final PendingRemovals removals;

    NonStickyLoader(SessionStore store, NodeHealth health, NonStickyKeys keys, SessionCodec codec, Expiry expiry,
            Statistics statistics, ExpiryWatch expiryWatch, ClusterWriter cluster, BackupService backups,
            Ticker ticker, NearCopies nearCopies, MissingSessions missing, BackupMarkers markers,
            OncePerMinute logLimit, AccessRecords accessRecords, PendingRemovals removals) {
        this.removals = removals;
        this.logLimit = logLimit;
        this.accessRecords = accessRecords;
        this.markers = markers;
        this.nearCopies = nearCopies;
        this.missing = missing;
        this.store = store;
        this.health = health;
        this.keys = keys;
        this.codec = codec;
        this.expiry = expiry;
        this.statistics = statistics;
        this.expiryWatch = expiryWatch;
        this.cluster = cluster;
        this.backups = backups;
        this.ticker = ticker;
    }

    /**
     * @return true when neither node is offered, but the session's node is connected and no delete of
     *     the session (a logout's) waits to be done there: it is asked anyway. A node marked down by one
     *     failed operation (a moment's overload) would otherwise turn every session on it into a new one
     *     while the other node is away too.
     */
    private boolean lastResort(String primary, String backup, String key) {
        return (backup == null || !health.isUp(backup)) && health.mayAskAnyway(primary, key);
    }

    /** @return decoded sessions kept for the next load of the same bytes */
    int nearCopies() {
        return nearCopies.size();
    }

    /** @return null when there is no live copy */
    SessionSnapshot load(SessionId id, SessionState state) {
        String primary = id.nodeId();
        String backup = keys.backupNode(primary);
        byte[] data = null;
        byte[] validity = null;
        long cas = 0;
        long behindCas = 0; // of the node's older copy, when the backup's replaces it
        boolean fromBackup = false;
        boolean primaryAnswered = false;
        boolean backupHasNoRemoval = false;
        boolean backupAnswered = false;
        boolean clearNamed = false;
        long start = ticker.nanoTime();
        SessionStore.Asked asked = null;
        if (health.isUp(primary) || lastResort(primary, backup, keys.data(id))) {
            // Sent first: its round trip to the backup node overlaps the read from the session's node.
            asked = markers.ask(id, backup);
            SessionLocks.Lock lock = state.lock;
            SessionStore.Pair read = lock == null ? null : lock.takeRead(primary); // read with the lock's add
            try {
                SessionStore.Pair p = read;
                if (p == null) {
                    p = store.getsWithCompanion(primary, keys.data(id), keys.validity(id));
                    health.recordSuccess(primary, ticker.nanoTime() - start);
                }
                primaryAnswered = true;
                if (p.versioned != null) {
                    data = p.versioned.value;
                    cas = p.versioned.cas;
                    validity = p.companion;
                }
            } catch (StoreException e) {
                health.failed(primary, e);
            }
        }
        if (data != null) {
            BackupMarkers.Word word = markers.answer(asked, id, backup);
            Map<String, byte[]> onBackup = null;
            if (word == BackupMarkers.Word.BEHIND || word == BackupMarkers.Word.UNANSWERED) {
                onBackup = markers.readAll(id, backup);
                word = markers.settle(word, onBackup, id);
            }
            if (word == BackupMarkers.Word.REMOVED) {
                LOG.info("session {} was invalidated while memcached node {} did not answer; the copy it kept"
                        + " is deleted", id.masked(), primary);
                ValidityRecord kept = keys.validityOf(id, validity);
                removals.submit(ClusterWrite.removed(id, null, expiry.removalMarker(
                        kept == null ? UNKNOWN_TIMEOUT_SECONDS : kept.maxInactiveInterval), cluster::write));
                statistics.increment(Statistics.Counter.LOAD_MISSES);
                return null;
            }
            if (word == BackupMarkers.Word.BEHIND && onBackup != null && onBackup.get(keys.backup(id)) != null) {
                behindCas = cas;
                data = onBackup.get(keys.backup(id));
                validity = onBackup.get(keys.backupValidity(id));
                cas = 0;
                fromBackup = true;
            }
        }
        if (data == null && primaryAnswered && cluster.wasRemoved(primary, id)) {
            statistics.increment(Statistics.Counter.LOAD_MISSES);
            return null; // invalidated or expired; a backup copy written late must not revive it
        }
        if (data == null && backup != null && health.isUp(backup)) {
            try {
                Map<String, byte[]> found = store.getAll(backup,
                        Arrays.asList(keys.backup(id), keys.backupValidity(id), keys.removed(id)));
                backupAnswered = true;
                backupHasNoRemoval = found.get(keys.removed(id)) == null; // a removal is an invalidation
                if (found.get(keys.removed(id)) == null) {
                    data = found.get(keys.backup(id));
                    validity = found.get(keys.backupValidity(id));
                    fromBackup = data != null;
                }
            } catch (StoreException e) {
                health.failed(backup, e);
            }
        }
        if (data == null && primaryAnswered && keys.dataBeforeEncryption(id) != null) {
            try {
                // Written before encryption was switched on; the next store seals it under its hashed name.
                SessionStore.Pair p = store.getsWithCompanion(primary, keys.dataBeforeEncryption(id),
                        keys.validityBeforeEncryption(id));
                if (p.versioned != null) {
                    data = p.versioned.value;
                    validity = p.companion;
                    cas = 0;
                    clearNamed = true;
                }
            } catch (StoreException e) {
                health.failed(primary, e);
            }
        }
        statistics.addLoadNanos(ticker.nanoTime() - start);
        if (data == null) {
            nearCopies.drop(id);
            // Not found, or not asked: no node answered (all out of use, or failing now), as sticky counts it.
            statistics.increment(primaryAnswered || backupAnswered ? Statistics.Counter.LOAD_MISSES
                    : Statistics.Counter.LOAD_FAILURES);
            Long expected = expiryWatch.expiresAt(id);
            if (expected != null && expected > expiry.now() && primaryAnswered && health.isUp(primary)
                    && (backup == null || backupHasNoRemoval) && expiryWatch.forgetIfNoted(id)) {
                missing.missing(id, primary, backup); // counted once: its user starts a new session
            }
            return null;
        }
        long now = expiry.now();
        // Written before encryption was switched on: no tag, as the clear copy it goes with.
        ValidityRecord v = clearNamed ? ValidityRecord.decode(validity) : keys.validityOf(id, validity);
        if (v != null && v.isExpired(now)) {
            // The copy's timeout decides where the record's differs (ValidityRecord.withTimeoutOf): a
            // stale record of a shorter one must not end a session the copy says lives.
            SessionFrame f = codec.header(id, fromBackup ? backup : primary, data, clearNamed);
            ValidityRecord byCopy = f == null || f.maxInactiveInterval == v.maxInactiveInterval ? v
                    : v.withTimeoutOf(f.lastAccessedTime, f.maxInactiveInterval);
            if (byCopy.isExpired(now)) {
                return expired(id, state, byCopy);
            }
        }
        SessionSnapshot loaded = decode(id, fromBackup ? backup : primary, data, state, fromBackup, clearNamed);
        if (loaded == null) {
            return null;
        }
        if (v != null && v.maxInactiveInterval != loaded.maxInactiveInterval()) {
            // See ValidityRecord.withTimeoutOf. With encryption the copy's timeout is authenticated, and a
            // record put back in memcached to outlive a shortened timeout (a tag binds it to its session,
            // not to a time) gains nothing.
            v = v.withTimeoutOf(loaded.lastAccessedTime(), loaded.maxInactiveInterval());
            if (v.isExpired(now)) {
                return expired(id, state, v);
            }
        }
        if (v == null && keys.validitySealed()
                && ValidityRecord.expiresAt(loaded.lastAccessedTime(), loaded.maxInactiveInterval()) < now) {
            // No record that verifies where the copy was read. The node's alone may be gone (evicted, or
            // deleted by a repair after a write that missed it): the backup's, which verifies, says
            // whether the session was used since its last change, as it does for the expiry check.
            // Without one, the encrypted copy's own last access decides: a record deleted or forged in
            // memcached must not keep a session alive past its timeout.
            v = fromBackup ? null : backupRecord(id, backup, loaded);
            if (v == null || v.isExpired(now)) {
                nearCopies.drop(id);
                statistics.increment(Statistics.Counter.LOAD_MISSES);
                return null;
            }
        }
        statistics.increment(Statistics.Counter.LOADS);
        if (clearNamed) {
            // Under this id all the same (to be written in full, sealed), so that a login in this request
            // deletes the clear copies with the old id's keys.
            state.loaded(id, 0, 0);
        }
        state.cas = cas;
        state.nodeCopyUnknown = false;
        state.dataRefreshedAt = v == null ? 0 : v.dataRefreshedAt;
        state.recordedLastAccess = v == null ? 0 : v.lastAccessedTime;
        if (fromBackup) {
            statistics.increment(Statistics.Counter.BACKUP_READS);
            // Only after a read of the node: a load that began while the node was out of use, which came
            // back meanwhile, cannot tell its older copy from a newer one, and took its copy for newer
            // (and deleted the behind marker) in CI. The next load reads the node and restores it.
            if (primaryAnswered && health.isUp(primary)) {
                long token = rebuildPrimary(id, data, loaded, v, behindCas);
                if (token == REMOVED_MEANWHILE) {
                    return removedWhileRebuilt(id, state);
                }
                // The store at the request's end compares with this token. Without one: it reads first when
                // the node holds another Tomcat's copy (0); after a failed restore, or a load that did not
                // read the node, it sets the backup's copy there, the newest by the behind marker.
                state.cas = Math.max(token, 0);
                state.nodeCopyUnknown = token == 0;
            }
        } else if (backup != null && health.isUp(backup)
                && expiry.mayBeBehind(health.emptySince(backup), v)
                && rebuildBackup(id, backup, data, loaded, v)) {
            return removedWhileRebuilt(id, state);
        }
        long lastAccess = v == null ? loaded.lastAccessedTime() : v.lastAccessedTime;
        int timeout = loaded.maxInactiveInterval();
        if (timeout > 0) {
            // Written now, not at the request's end, with the copies' expiry pushed forward as the end
            // would: a request that runs long (a download) must find neither its session claimed as idle
            // by the record of the request before it, nor its copies expired. The end then finds both
            // fresh and writes nothing, so this is the write the end would have made, made earlier.
            accessRecords.recordIfDue(id, timeout, expiry.now(), state);
        }
        // The webapp sees the previous request's access, as with Tomcat's managers; expiry goes by the record.
        expiryWatch.note(id, ValidityRecord.expiresAt(Math.max(lastAccess, state.recordedLastAccess), timeout));
        return new SessionSnapshot(id, loaded.creationTime(), lastAccess, loaded.maxInactiveInterval(),
                loaded.authType(), loaded.content());
    }

    /** @return the backup node's record of the session, for the timeout of the copy loaded; null for none */
    private ValidityRecord backupRecord(SessionId id, String backup, SessionSnapshot loaded) {
        if (backup == null || !health.isUp(backup)) {
            return null;
        }
        try {
            ValidityRecord r = keys.validityOf(id, store.get(backup, keys.backupValidity(id)));
            return r == null || r.maxInactiveInterval == loaded.maxInactiveInterval() ? r
                    : r.withTimeoutOf(loaded.lastAccessedTime(), loaded.maxInactiveInterval());
        } catch (StoreException e) {
            health.failed(backup, e);
            return null;
        }
    }

    /**
     * @return null: a logout elsewhere deleted the session between this load's read and its rebuild,
     *     whose copy is deleted again; the request sees no session, as one that came after the logout
     */
    private SessionSnapshot removedWhileRebuilt(SessionId id, SessionState state) {
        nearCopies.drop(id);
        state.nearCopy = null;
        statistics.increment(Statistics.Counter.LOAD_MISSES);
        LOG.info("session {} was invalidated while this Tomcat restored its copy from the other node; the copy is"
                + " deleted again", id.masked());
        return null;
    }

    /** @return null: the session expired by this record; sessionDestroyed fires from the expiry check */
    private SessionSnapshot expired(SessionId id, SessionState state, ValidityRecord v) {
        nearCopies.drop(id);
        state.nearCopy = null;
        expiryWatch.note(id, v.expiresAt());
        return null;
    }

    /** The session this Tomcat kept from the same bytes ({@link NearCopies}), or the bytes decoded. */
    private SessionSnapshot decode(SessionId id, String node, byte[] data, SessionState state, boolean fromBackup,
            boolean clearNamed) {
        if (clearNamed) {
            state.blocks = new EncodedBlocks();
            return codec.decodeClearNamed(id, node, data, state);
        }
        NearCopies.Copy near = fromBackup ? null : nearCopies.lend(id, data);
        state.nearCopy = near;
        if (near != null) {
            state.loaded(id, near.fingerprint, expiry.now());
            state.blocks = near.blocks;
            statistics.increment(Statistics.Counter.NEAR_COPIES_USED);
            return near.snapshot;
        }
        state.blocks = new EncodedBlocks(); // the decode keeps each attribute's bytes in it
        SessionSnapshot loaded = codec.decode(id, node, data, state);
        if (loaded != null && !fromBackup && id.equals(state.storedUnderId) && state.storedFingerprint != 0) {
            state.nearCopy = nearCopies.keep(id, data, loaded, state.storedFingerprint, state.blocks, true);
        }
        return loaded;
    }

    /**
     * The backup node came back empty lately: a session only read since would have no backup copy,
     * and would be lost with its own node. Checked only while copies from before could still live.
     *
     * @return true when a logout removed the session meanwhile: its copy is deleted again
     */
    private boolean rebuildBackup(SessionId id, String backup, byte[] data, SessionSnapshot s, ValidityRecord v) {
        boolean wrote = false;
        boolean done = false;
        try {
            // The small validity record goes with the copy: asking for it spares moving the copy itself.
            if (store.get(backup, keys.backupValidity(id)) != null) {
                return false;
            }
            int exp = expiry.nonSticky(s.maxInactiveInterval());
            wrote = true; // a set that times out may still have been applied
            store.set(backup, keys.backup(id), data, exp);
            if (v != null) {
                store.set(backup, keys.backupValidity(id), keys.validityBytes(id, v), exp);
            }
            done = true;
        } catch (StoreException e) {
            health.failed(backup, e);
        }
        if (wrote && removedAfterRebuild(id, backup, keys.backup(id), keys.backupValidity(id))) {
            return true;
        }
        if (done) {
            statistics.increment(Statistics.Counter.BACKUP_COPIES_REBUILT);
        }
        return false;
    }

    /**
     * Checked after a rebuild's write: a logout writes its markers before it deletes, so either it
     * deleted this copy or this sees its marker. Without it, a copy put back after the logout's
     * delete would be served as logged in on every Tomcat (a node that answers is not asked for
     * markers at each load).
     */
    private boolean removedAfterRebuild(SessionId id, String node, String dataKey, String validityKey) {
        if (!cluster.removedMeanwhile(id)) {
            return false;
        }
        cluster.delete(node, dataKey);
        cluster.delete(node, validityKey);
        return true;
    }

    /**
     * The session's node came back empty or behind: give it the backup's copy. Only over the copy
     * this load found there (none, or the older one by its CAS token): another Tomcat may have
     * written a newer one since, and that one stays.
     *
     * @return the CAS token of the copy it wrote there; 0 when another Tomcat's copy is there, or a
     *     step after the first write failed; {@link #NOT_RESTORED} when that write failed (the node may
     *     hold its older copy still); {@link #REMOVED_MEANWHILE}
     */
    private long rebuildPrimary(SessionId id, byte[] data, SessionSnapshot s, ValidityRecord v, long behindCas) {
        String primary = id.nodeId();
        String key = keys.data(id);
        int exp = expiry.nonSticky(s.maxInactiveInterval());
        String backup = keys.backupNode(primary);
        boolean done = false;
        long token = NOT_RESTORED;
        try {
            Long added = behindCas == 0 ? store.addVersioned(primary, key, data, exp) : null;
            boolean rebuilt = behindCas == 0 ? added != null
                    : store.cas(primary, key, behindCas, data, exp) == SessionStore.CasOutcome.STORED;
            // From here the node holds this load's copy, another Tomcat's, or none, but not the one this load
            // read there: a failure from here on leaves the store to read what it holds and merge.
            token = 0;
            if (!rebuilt && store.gets(primary, key) != null) {
                // Written meanwhile by a Tomcat that reaches both nodes, with the same copy to the backup
                // node: the node is not behind any more.
                if (backup != null) {
                    cluster.delete(backup, keys.behind(id));
                }
                return 0;
            }
            if (!rebuilt) {
                store.set(primary, key, data, exp); // what it holds does not read (a part lost)
            }
            token = added != null && added != 0 ? added : tokenOfOwn(primary, key, data);
            if (v != null) {
                store.set(primary, keys.validity(id), keys.validityBytes(id, v), exp);
            }
            done = true;
        } catch (StoreException e) {
            health.failed(primary, e);
        }
        // Also after a failure: a write that timed out may have been applied, and a copy put back after a
        // logout must not stay.
        if (removedAfterRebuild(id, primary, key, keys.validity(id))) {
            return REMOVED_MEANWHILE;
        }
        if (!done) {
            return token; // known, or NOT_RESTORED: the store sets the backup's copy, as without a restore
        }
        statistics.increment(Statistics.Counter.PRIMARY_COPIES_REBUILT);
        // After a node restarted empty, every session of it comes here once: a line a minute says it.
        if (logLimit.allow("restored " + primary)) {
            LOG.info("session {} had no current copy on memcached node {}; restored there from its backup;"
                    + " PRIMARY_COPIES_REBUILT counts each ({} so far); this line repeats at most once a minute",
                    id.masked(), primary, statistics.get(Statistics.Counter.PRIMARY_COPIES_REBUILT));
        }
        if (backup != null) {
            cluster.delete(backup, keys.behind(id));
        }
        return token;
    }

    /**
     * @return the token of the copy this load just wrote, where the write gave none (a CAS, a set,
     *     the text protocol): read back, and only if it is still these bytes; else 0
     */
    private long tokenOfOwn(String node, String key, byte[] data) throws StoreException {
        SessionStore.Versioned now = store.gets(node, key);
        return now != null && Arrays.equals(now.value, data) ? now.cas : 0;
    }

}

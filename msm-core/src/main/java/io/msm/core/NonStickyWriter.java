package io.msm.core;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;

/**
 * Non-sticky mode's writes at the end of a request. The session's node gets its copy at once, and
 * conditionally (CAS): a store that finds a newer copy applies this request's changes to it instead
 * of overwriting. The backup node gets its copy in the same round trip ({@link BackupCopies}); the
 * validity records follow in the background ({@link ClusterWriter}); an unchanged session writes
 * only its validity record, and that rarely.
 */
final class NonStickyWriter {
    /** What a {@link #store} did with the request's changes. */
    enum Stored {
        /** Not written (refused, too large, no node answered, invalidated meanwhile): the next store writes them. */
        NOT,
        /**
         * memcached holds them, merged with another Tomcat's copy or on the backup node alone: a later
         * store merges them again, since the node may hold a copy without them, or one newer than this.
         */
        MERGED,
        /** The session's node holds them as written, or held them already (unchanged): they are done. */
        DONE
    }

    private static final Logger LOG = Logs.get(NonStickyWriter.class);
    private static final int MAX_MERGES = 20;

    private final SessionStore store;
    private final NodeHealth health;
    private final NonStickyKeys keys;
    private final SessionCodec codec;
    private final Expiry expiry;
    private final Statistics statistics;
    private final ExpiryWatch expiryWatch;
    private final ClusterWriter cluster;
    private final BackupService backups;
    private final long removalWaitMillis;
    private final OversizedSessions oversized;
    private final NearCopies nearCopies;
    private final BackupCopies backupCopies;
    private final BehindFlags flags;
    private final OncePerMinute logLimit;
    private final AccessRecords accessRecords;
    private final PendingRemovals removals;

    NonStickyWriter(SessionStore store, NodeHealth health, NonStickyKeys keys, SessionCodec codec, Expiry expiry,
            Statistics statistics, ExpiryWatch expiryWatch, ClusterWriter cluster, BackupService backups,
            BehindFlags flags, long removalWaitMillis, NearCopies nearCopies, BackupCopies backupCopies,
            OncePerMinute logLimit, AccessRecords accessRecords, PendingRemovals removals) {
        this.removals = removals;
        this.logLimit = logLimit;
        this.accessRecords = accessRecords;
        this.nearCopies = nearCopies;
        this.backupCopies = backupCopies;
        this.flags = flags;
        this.store = store;
        this.health = health;
        this.keys = keys;
        this.codec = codec;
        this.expiry = expiry;
        this.statistics = statistics;
        this.expiryWatch = expiryWatch;
        this.cluster = cluster;
        this.backups = backups;
        this.removalWaitMillis = removalWaitMillis;
        this.oversized = new OversizedSessions(codec, statistics, logLimit);
    }

    /**
     * Stores the session after the last request using it ends, before its lock is released. Nothing
     * but the validity record is written when the content is unchanged.
     *
     * @param stillInUse true for a store while parallel requests here still use the session
     *     ({@link NonStickySessions#storeShared}): the near copy it keeps stays lent to them, and the
     *     last one's end settles it
     * @return what became of the snapshot's changes
     */
    Stored store(SessionSnapshot snapshot, SessionState state, SessionChanges changes, boolean stillInUse) {
        SessionId id = snapshot.id();
        if (stillInUse && state.sharedEndedElsewhere) {
            return Stored.NOT; // each try would write the copy back for a moment, before it deletes it again
        }
        EncodedBlocks blocks = state.blocks;
        if (blocks == null) {
            blocks = new EncodedBlocks(); // a new session: its bytes go with the near copy its store keeps
            state.blocks = blocks;
        }
        byte[] payload = codec.encode(snapshot.content(), blocks);
        long fingerprint = SessionCodec.fingerprint(payload, snapshot);
        boolean sameId = id.equals(state.storedUnderId);
        if (sameId && fingerprint == state.storedFingerprint) {
            statistics.increment(Statistics.Counter.NON_STICKY_STORES_SKIPPED);
            if (stillInUse) {
                // The last request's end gives the near copy back, and writes the validity record. Done
                // only when the node holds these bytes: this Tomcat's write as written, or the copy its
                // load read there; not after a write to the backup node alone, nor with a value left out
                // or carried over from an older encode because it changed while it was written.
                boolean onNode = state.sharedFrame != null || (state.cas != 0 && !state.sharedOnBackupOnly);
                // Not counted as on the node for later merges: its token may be older than another Tomcat's store.
                return onNode && NearCopies.holdsAll(blocks, snapshot) ? Stored.DONE : Stored.MERGED;
            }
            if (NearCopies.holdsAll(blocks, snapshot)) {
                nearCopies.unchanged(id, state.nearCopy, state.storedFingerprint, snapshot, blocks);
            } else {
                nearCopies.drop(id); // objects memcached does not hold would live on here
            }
            state.nearCopy = null;
            accessed(snapshot, state);
            return Stored.DONE;
        }
        if (stillInUse && !NearCopies.leavesNoneOut(blocks, snapshot)) {
            // An attribute left out of the encode: the copy other Tomcats load would lack it. The last
            // request's end stores it. One carried over with older bytes, while a running request
            // changes it, is written (better than none), but the store is not done (below).
            return Stored.NOT;
        }
        state.nearCopy = null;
        nearCopies.drop(id); // until memcached is known to hold this request's bytes
        if (!sameId) {
            nearCopies.drop(state.storedUnderId); // renamed: the old id's copy is no session's any more
        }
        String primary = id.nodeId();
        String backup = keys.backupNode(primary);
        int exp = expiry.nonSticky(snapshot.maxInactiveInterval());
        byte[] frame = codec.frame(snapshot, payload);
        if (oversized.refuse(snapshot, payload, frame, state, "this request's changes are not stored, memcached keeps the"
                + " session as it was")) {
            return Stored.NOT;
        }
        SessionId oldId = state.storedUnderId;
        boolean renamed = oldId != null && !sameId;
        byte[] stored = null;
        // Merged: memcached holds the other request's timeout unless this one changed it, and the
        // copies' expiry, the record and the expiry check go by what memcached holds.
        int maxInactive = snapshot.maxInactiveInterval();
        SessionStore.Sent backupCopy = null;
        // Neither node offered, the session's node connected: it is written anyway, as it is read
        // (NonStickyLoader.lastResort), rather than the request's changes dropped.
        boolean lastResort = !health.isUp(primary) && (backup == null || !health.isUp(backup))
                && health.mayAskAnyway(primary, keys.data(id));
        if (health.isUp(primary) || lastResort) {
            backupCopy = backupCopies.send(id, frame, exp);
            try {
                Written written = writePrimary(snapshot, state, changes, frame, exp, sameId, stillInUse);
                stored = written == null ? null : written.frame;
                if (stillInUse) {
                    state.sharedOnPrimary |= written != null;
                    state.sharedEndedElsewhere = written == null;
                }
                if (written != null && written.maxInactive != maxInactive) {
                    maxInactive = written.maxInactive;
                    exp = expiry.nonSticky(maxInactive);
                }
                if (stored == null) {
                    if (backupCopy != null) {
                        cluster.delete(backup, keys.backup(id)); // invalidated meanwhile: no copy of it may stay
                    }
                    return Stored.NOT;
                }
            } catch (StoreException e) {
                health.failed(primary, e);
                if (e.isRefused()) {
                    statistics.increment(Statistics.Counter.ITEMS_REFUSED);
                    if (logLimit.allow("refused " + primary)) {
                        LOG.warn("session {} is not stored on its node: {}; memcached deletes the copy whose store it"
                                + " refuses, so the next request reads the session's backup copy (without a backup"
                                + " node, its user gets a new session); ITEMS_REFUSED counts each such store; this line"
                                + " repeats at most once a minute", id.masked(), e.getMessage());
                    }
                    return Stored.NOT;
                }
            }
        }
        boolean onPrimary = stored != null;
        if (onPrimary && stillInUse) {
            state.changesOnNode = changes.recorded(); // a copy, taken before the snapshot
        }
        if (stored == null && !health.isUp(primary)) {
            stored = writeBackupOnly(id, backup, frame, exp);
            backupCopy = null; // written again, and awaited, behind the marker that says the node is behind
        }
        if (stored == null) {
            return Stored.NOT;
        }
        if (backupCopy != null) {
            if (stored != frame) {
                backupCopy = backupCopies.send(id, stored, exp); // merged: the backup gets what the node holds
            }
            if (backupCopy != null) {
                backupCopies.await(id, backupCopy, exp);
            }
        }
        if (stored == frame && health.isUp(primary) && NearCopies.holdsAll(blocks, snapshot)) {
            // Not after a merge: memcached holds other content than this request's.
            NearCopies.Copy kept = nearCopies.keep(id, frame, snapshot, fingerprint, blocks, stillInUse);
            if (stillInUse) {
                state.nearCopy = kept; // its objects are the ones the running requests use: given back at the last end
            }
        }
        // Only a frame the node holds as written: after a merge it holds another Tomcat's changes too, and
        // after a write to the backup alone the node still holds an older copy.
        boolean asWritten = onPrimary && stored == frame;
        state.sharedFrame = stillInUse && asWritten ? frame : null;
        if (stillInUse) {
            state.sharedOnBackupOnly = !onPrimary;
        }
        statistics.increment(Statistics.Counter.NON_STICKY_STORES);
        long now = expiry.now();
        state.storedUnderId = id;
        // After a merge memcached holds other content than this snapshot, maybe without a value the
        // request had put in but not yet recorded as changed: the next store must not be skipped.
        state.storedFingerprint = stored == frame ? fingerprint : 0;
        state.dataRefreshedAt = now;
        // A copy a long request kept (an upload that outlasted the timeout here) would record an access
        // that has expired already, over the record the user's requests on other Tomcats kept fresh:
        // that one is left as it is (a load applies the copy's timeout to it, a changed one too). Used
        // nowhere else, the session has expired there too.
        boolean outlasted = sameId && state.recordedLastAccess != 0
                && ValidityRecord.expiresAt(snapshot.lastAccessedTime(), maxInactive) <= now;
        // The data was just rewritten; its validity record only when the recorded one lags too far.
        boolean recordValidity = !outlasted && (!sameId || changes.isMaxInactiveChanged()
                || state.recordedLastAccess == 0 || maxInactive != snapshot.maxInactiveInterval()
                || snapshot.lastAccessedTime() - state.recordedLastAccess >= ValidityRecord.graceMillis(maxInactive));
        if (recordValidity) {
            state.recordedLastAccess = snapshot.lastAccessedTime();
        }
        ValidityRecord validity = new ValidityRecord(snapshot.lastAccessedTime(), maxInactive, now);
        if (recordValidity || renamed) { // else the background writer would have nothing to do
            ClusterWrite write = ClusterWrite.stored(id, exp, recordValidity ? keys.validityBytes(id, validity) : null,
                    oldId, cluster::write);
            // A new timeout: the touch this request's load queued (NonStickyLoader) may land after the sets
            // above, with the old timeout's expiry; queued behind it, this one gives the copies the new one.
            write.touchData = changes.isMaxInactiveChanged();
            if (renamed) {
                removals.submit(write); // the copies under the id from before a login are deleted even after a stop
            } else {
                backups.submit(id, write);
            }
        }
        expiryWatch.note(id, validity.expiresAt());
        if (renamed) {
            expiryWatch.forget(oldId); // the old id is no session any more
        }
        return asWritten && NearCopies.holdsAll(blocks, snapshot) ? Stored.DONE : Stored.MERGED;
    }

    /** What {@link #writePrimary} wrote: the frame, and the timeout it holds (another request's after a merge). */
    private static final class Written {
        final byte[] frame;
        final int maxInactive;

        Written(byte[] frame, int maxInactive) {
            this.frame = frame;
            this.maxInactive = maxInactive;
        }
    }

    /** @return what was written, or null when the session was deleted meanwhile (invalidated elsewhere) */
    private Written writePrimary(SessionSnapshot snapshot, SessionState state, SessionChanges changes, byte[] frame,
            int exp, boolean sameId, boolean stillInUse) throws StoreException {
        SessionId id = snapshot.id();
        String node = id.nodeId();
        String key = keys.data(id);
        int timeout = snapshot.maxInactiveInterval();
        long cas = state.cas;
        byte[] own = state.sharedFrame;
        // A store while parallel requests used the session wrote it here: memcached's token is past the
        // load's, or there was none (new, loaded from the backup). Read what is there and compare: another
        // Tomcat may have stored it since, and then a CAS with the load's token, or a set, is wrong.
        // So too for a session loaded from the backup copy whose node holds another Tomcat's copy (it
        // restored or wrote the node first): a set would overwrite that Tomcat's change.
        boolean compareFirst = sameId && (state.sharedOnPrimary || (cas == 0 && state.nodeCopyUnknown));
        if (!compareFirst && (!sameId || cas == 0)) {
            // New, renamed, or loaded from the backup copy while its node was not read: nothing to compare
            // with; the backup's copy is the newest there is.
            // With parallel requests still running, a logout of one of them may have deleted the keys
            // before this wrote them: checked as setUnlessRemoved does.
            byte[] written;
            if (state.storedUnderId == null && store.add(node, key, frame, exp)) {
                written = stillInUse ? keptUnlessRemoved(id, node, key, frame) : frame;
            } else if (sameId) {
                written = setUnlessRemoved(id, node, key, frame, exp);
            } else {
                written = set(node, key, frame, exp);
                written = stillInUse ? keptUnlessRemoved(id, node, key, written) : written;
            }
            return written == null ? null : new Written(written, timeout);
        }
        byte[] toWrite = frame;
        int toWriteExp = exp;
        for (int attempt = 0; attempt < MAX_MERGES; attempt++) {
            SessionStore.Versioned newer;
            if (compareFirst && attempt == 0) {
                newer = store.gets(node, key);
            } else {
                SessionStore.CasOutcome outcome = store.cas(node, key, cas, toWrite, toWriteExp);
                if (outcome == SessionStore.CasOutcome.STORED) {
                    return new Written(toWrite, timeout);
                }
                newer = outcome == SessionStore.CasOutcome.GONE ? null : store.gets(node, key);
            }
            if (newer == null) {
                if (ValidityRecord.expiresAt(snapshot.lastAccessedTime(), timeout) <= expiry.now()
                        && health.emptySince(node) < snapshot.lastAccessedTime()) {
                    // Gone, and this request began longer ago than the session lives idle (an upload of an
                    // hour): a logout elsewhere whose marker has expired since, or the cluster's idle expiry,
                    // may have ended it. Written back, a session its user logged out of would live again.
                    // Not when the node came back empty meanwhile: the copy went with it, and this is the
                    // session's newest state (its backup copy was just overwritten with it).
                    LOG.info("session {} is gone from memcached at the end of a request that began more than its"
                            + " timeout ago; it may have been logged out or expired meanwhile, so the request's changes"
                            + " are dropped rather than the session brought back", id.masked());
                    return null;
                }
                // Invalidated on another Tomcat, or lost by its node (restarted empty, evicted): then
                // this request's copy is the newest there is.
                byte[] written = setUnlessRemoved(id, node, key, toWrite, toWriteExp);
                return written == null ? null : new Written(written, timeout);
            }
            if (toWrite == frame && own != null && Arrays.equals(newer.value, own)) {
                // This Tomcat's own store while parallel requests used the session, nothing since: written
                // over in full, values changed in place included, which a merge would leave out.
                cas = newer.cas;
                continue;
            }
            SessionSnapshot merged = merge(id, node, newer.value, snapshot, changes, state.changesOnNode);
            toWrite = codec.frame(merged);
            timeout = merged.maxInactiveInterval();
            toWriteExp = expiry.nonSticky(timeout); // the merged copy lives by the timeout it holds
            cas = newer.cas;
            statistics.increment(Statistics.Counter.NON_STICKY_STORES_MERGED);
        }
        LOG.warn("session {} changed on every one of {} merge attempts; this request's state overwrites it",
                id.masked(), MAX_MERGES);
        store.set(node, key, toWrite, toWriteExp);
        return new Written(toWrite, timeout);
    }

    private byte[] set(String node, String key, byte[] frame, int exp) throws StoreException {
        store.set(node, key, frame, exp);
        return frame;
    }

    /** @return the frame written, or null when the session was invalidated meanwhile and its copy deleted again */
    private byte[] setUnlessRemoved(SessionId id, String node, String key, byte[] frame, int exp)
            throws StoreException {
        store.set(node, key, frame, exp);
        return keptUnlessRemoved(id, node, key, frame);
    }

    /** @return the frame just written, or null when the session was invalidated meanwhile and its copy deleted again */
    private byte[] keptUnlessRemoved(SessionId id, String node, String key, byte[] frame) throws StoreException {
        // Checked after the write: a removal writes its marker before it deletes, so either it
        // deletes this copy or this check sees its marker.
        if (cluster.removedMeanwhile(id)) {
            cluster.delete(node, key);
            LOG.info("session {} was invalidated while a request used it; the request's changes are dropped",
                    id.masked());
            return null;
        }
        return frame;
    }

    /**
     * The newer copy, with this request's changes applied: what it set, removed, its login and timeout,
     * recorded after {@code after} (what an earlier store of this Tomcat wrote to the node is there).
     */
    private SessionSnapshot merge(SessionId id, String node, byte[] newerFrame, SessionSnapshot mine,
            SessionChanges changes, long after) {
        SessionSnapshot newer = codec.decode(id, node, newerFrame, new SessionState());
        if (newer == null) {
            return mine; // the stored copy does not decode: ours is the only good one
        }
        Map<String, Object> attributes = new HashMap<>(newer.content().attributes());
        // What the newer copy holds that this Tomcat cannot read stays, unless this request replaced it.
        Map<String, UnreadAttribute> unread = new HashMap<>(newer.content().unread());
        Map<String, Object> myAttributes = mine.content().attributes();
        for (String name : changes.set(after)) {
            Object value = myAttributes.get(name);
            unread.remove(name);
            if (value == null) {
                attributes.remove(name);
            } else {
                attributes.put(name, value);
            }
        }
        for (String name : changes.removed(after)) {
            attributes.remove(name);
            unread.remove(name);
        }
        boolean login = changes.isPrincipalChanged(after);
        return new SessionSnapshot(id, newer.creationTime(), Math.max(newer.lastAccessedTime(), mine.lastAccessedTime()),
                changes.isMaxInactiveChanged(after) ? mine.maxInactiveInterval() : newer.maxInactiveInterval(),
                login ? mine.authType() : newer.authType(),
                new SessionContent(attributes, login ? mine.content().principal() : newer.content().principal(), unread));
    }

    private byte[] writeBackupOnly(SessionId id, String backup, byte[] frame, int exp) {
        if (backup == null || !health.isUp(backup)) {
            statistics.increment(Statistics.Counter.BACKUPS_FAILED);
            notStored(id, "neither its memcached node nor its backup node answers");
            return null;
        }
        try {
            // Other Tomcats that still reach the node ask for the marker below only while the flag is up.
            if (!flags.raise(id.nodeId(), exp)) {
                statistics.increment(Statistics.Counter.BACKUPS_FAILED);
                notStored(id, "interrupted while its memcached node was flagged as behind");
                return null;
            }
            store.set(backup, keys.backup(id), frame, exp);
            // The node's copy is older now. Every load asks for this marker while the flag is up
            // (BackupMarkers), takes the backup's copy and restores it on the node. Deleting the node's
            // copy once it answered, as before, ran late under load and deleted copies written after it.
            store.set(backup, keys.behind(id), ClusterWriter.MARKER, exp);
        } catch (StoreException e) {
            health.failed(backup, e);
            statistics.increment(Statistics.Counter.BACKUPS_FAILED);
            notStored(id, e.getMessage());
            return null;
        }
        try {
            flags.confirm(id.nodeId(), exp); // interrupted: the webapp stops; what was written stays
        } catch (StoreException e) {
            health.failed(backup, e);
            if (logLimit.allow("flag " + id.nodeId())) {
                LOG.warn("session {} is stored on memcached node {} only, and the flag that tells other Tomcats to"
                        + " look there could not be checked: {}; a Tomcat that reaches node {} may serve its older"
                        + " copy; this line repeats at most once a minute", id.masked(), backup, e.getMessage(),
                        id.nodeId());
            }
        }
        return frame;
    }

    /** While both nodes are away every changed session comes here: one line a minute says it. */
    private void notStored(SessionId id, String why) {
        if (logLimit.allow("not stored")) {
            LOG.warn("session {} is not stored: {}; BACKUPS_FAILED counts each miss ({} so far); this line repeats"
                    + " at most once a minute", id.masked(), why, statistics.get(Statistics.Counter.BACKUPS_FAILED));
        }
    }

    /**
     * After a request that changed nothing: the validity record moves the last access forward on
     * both nodes, and the stored copies' expiry is pushed forward when it is about to lag behind.
     * Neither is written while the recorded last access is younger than the record's grace
     * ({@link ValidityRecord#graceMillis}), so a session read by request after request costs one
     * memcached read per request, not a read and two writes.
     */
    private void accessed(SessionSnapshot snapshot, SessionState state) {
        // Judged from the request's start, as its load judged it: a long request whose load pushed the
        // copies' expiry forward does not push it again at its end.
        if (!recordAccess(snapshot.id(), snapshot.maxInactiveInterval(), snapshot.lastAccessedTime(), state)) {
            statistics.increment(Statistics.Counter.VALIDITY_WRITES_SKIPPED);
        }
    }

    /**
     * Records an access when due, and watches the expiry it sets: after a request alone that changed
     * nothing, and for {@link NonStickySessions#accessedWhileShared}.
     *
     * @return false when nothing needed writing
     */
    boolean recordAccess(SessionId id, int timeout, long accessedAt, SessionState state) {
        ValidityRecord written = accessRecords.recordIfDue(id, timeout, accessedAt, state);
        if (written == null) {
            return false;
        }
        expiryWatch.note(id, written.expiresAt());
        return true;
    }

    /**
     * At a stop, after the backup threads stopped: removals they did not get to become repairs, which
     * the next start of the webapp in this JVM does, as sticky mode's undone deletes.
     *
     * @return how many removals were handed on
     */
    int queueUndoneRemovals() {
        return removals.queueUndone(cluster);
    }

    /** @return removals queued or running */
    int pendingRemovals() {
        return removals.size();
    }

    /**
     * Deletes every key of an invalidated or expired session, and waits (bounded) until they are
     * gone, so that the next request, once the lock is freed, cannot load it. A marker on both nodes
     * outlives any copy of it, so that a backup copy another Tomcat writes late never brings it back.
     */
    void removed(SessionId id, SessionState state, int maxInactiveInterval) {
        SessionId old = state.storedUnderId;
        nearCopies.drop(id);
        nearCopies.drop(old);
        expiryWatch.forget(id);
        Future<Void> deleted = removals.submit(
                ClusterWrite.removed(id, old, expiry.removalMarker(maxInactiveInterval), cluster::write));
        try {
            deleted.get(removalWaitMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // Every logout while a node hangs comes here: one line a minute says it.
            if (logLimit.allow("removal wait")) {
                LOG.info("session {} is still being deleted from memcached after {} ms (a node that hangs, or a long"
                        + " backup queue); the logout's answer goes out; this line repeats at most once a minute",
                        id.masked(), removalWaitMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        state.storedFingerprint = 0;
        state.storedUnderId = null;
    }
}

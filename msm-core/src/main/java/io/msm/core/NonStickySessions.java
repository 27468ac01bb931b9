package io.msm.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Non-sticky mode: memcached is the primary store and no Tomcat keeps a session between requests.
 * A session lives on the node its id names, with a backup copy on the next node of the list; a small
 * validity record carries its last access across the cluster. Stores are conditional (CAS), and a
 * store that finds a newer copy applies this request's changes to it instead of overwriting.
 */
public final class NonStickySessions {
    private static final Logger LOG = LoggerFactory.getLogger(NonStickySessions.class);
    /** Stored copies outlive their timeout by this much, so the cluster can still fire sessionDestroyed. */
    static final int EXPIRY_GRACE_SECONDS = 300;
    private static final byte[] MARKER = {1};
    /** For a marker whose session's timeout cannot be read: a day outlives any usual copy. */
    private static final int UNKNOWN_TIMEOUT_SECONDS = 86_400;
    private static final int MAX_MERGES = 20;
    private static final int CLAIM_SECONDS = 600;

    private final SessionEngine engine;
    private final SessionStore store;
    private final NodeHealth health;
    private final Statistics statistics;
    private final SessionLocks locks;
    private final LockingMode lockingMode;
    private final ReadOnlyUris readOnlyUris = new ReadOnlyUris();
    private final ExpiryWatch expiryWatch = new ExpiryWatch();
    private final Map<String, String> backupNodes = new HashMap<>();
    private final String prefix;
    private final long removalWaitMillis;

    NonStickySessions(SessionEngine engine, SessionStore store, NodeHealth health, Statistics statistics,
            Settings settings, String prefix) {
        this.engine = engine;
        this.store = store;
        this.health = health;
        this.statistics = statistics;
        this.prefix = prefix;
        this.lockingMode = settings.lockingMode();
        this.removalWaitMillis = Math.max(1000, 2L * settings.operationTimeoutMillis());
        this.locks = new SessionLocks(store, health, statistics, settings.lockExpirationSeconds(),
                settings.lockWaitTimeoutMillis());
        List<MemcachedNode> nodes = settings.nodes();
        for (int i = 0; i < nodes.size() && nodes.size() > 1; i++) {
            backupNodes.put(nodes.get(i).id(), nodes.get((i + 1) % nodes.size()).id());
        }
        if (nodes.size() == 1) {
            LOG.warn("non-sticky sessions have no backup copy: memcachedNodes lists one node, and its loss or"
                    + " restart loses every session; list a second node to keep a copy there");
        }
    }

    // ---- keys: the session's node holds data, validity and lock; the next node the backup copies ----

    private String dataKey(String id) {
        return prefix + id;
    }

    private String validityKey(String id) {
        return prefix + "validity:" + id;
    }

    private String backupKey(String id) {
        return prefix + "backup:" + id;
    }

    private String backupValidityKey(String id) {
        return prefix + "backup-validity:" + id;
    }

    private String lockKey(String id) {
        return prefix + "lock:" + id;
    }

    /** Left on the session's node when it is removed, so no late backup write can bring it back. */
    private String removedKey(String id) {
        return prefix + "removed:" + id;
    }

    /**
     * Left on the backup node when a write meant for the session's node could not reach it: once
     * that node answers again, its copy is older than the backup's.
     */
    private String behindKey(String id) {
        return prefix + "primary-behind:" + id;
    }

    private String claimKey(String id) {
        return prefix + "expired:" + id;
    }

    // ---- locking ----

    /** @param uri the request URI with its query string, as {@code uriPattern} sees it */
    public boolean mustLock(String uri) {
        switch (lockingMode.kind) {
            case ALL:
                return true;
            case NONE:
                return false;
            case URI_PATTERN:
                return lockingMode.pattern.matcher(uri).matches();
            default:
                return !readOnlyUris.isReadOnly(uri);
        }
    }

    /** For {@code lockingMode="auto"}: what a request to this URI did to its session. */
    public void learn(String uri, boolean changedSession) {
        readOnlyUris.learn(uri, changedSession);
    }

    /** Counts a request that touched a session without its lock, for the statistics. */
    public void lockSkipped() {
        statistics.increment(Statistics.Counter.LOCKS_SKIPPED);
    }

    /** Takes the session's cluster lock for this Tomcat, waiting at most {@code lockWaitTimeout}. */
    public void lock(String id, SessionState state) {
        SessionId sid = SessionId.parse(id);
        if (sid == null || !health.isKnown(sid.nodeId())) {
            return;
        }
        state.lock = locks.acquire(lockKey(id), Arrays.asList(sid.nodeId(), backupNodes.get(sid.nodeId())),
                SessionId.masked(id));
    }

    public void unlock(SessionState state) {
        SessionLocks.Lock lock = state.lock;
        state.lock = null;
        if (lock != null) {
            locks.release(lock);
        }
    }

    // ---- load ----

    /**
     * Loads the session from its node, or from the backup copy while the node is down or lost it
     * (then the node gets its copy back). An idle-expired session is not loaded.
     *
     * @return null when there is no live copy
     */
    public SessionSnapshot load(String id, SessionState state) {
        SessionId sid = SessionId.parse(id);
        if (sid == null || !health.isKnown(sid.nodeId())) {
            return null;
        }
        String primary = sid.nodeId();
        String backup = backupNodes.get(primary);
        byte[] data = null;
        byte[] validity = null;
        long cas = 0;
        boolean fromBackup = false;
        boolean primaryAnswered = false;
        long start = System.nanoTime();
        if (health.isUp(primary)) {
            try {
                SessionStore.Pair p = store.getsWithCompanion(primary, dataKey(id), validityKey(id));
                health.recordSuccess(primary, System.nanoTime() - start);
                primaryAnswered = true;
                if (p.versioned != null) {
                    data = p.versioned.value;
                    cas = p.versioned.cas;
                    validity = p.companion;
                }
            } catch (StoreException e) {
                health.markDown(primary, e.getMessage());
            }
        }
        if (data != null && backup != null && health.isUp(backup) && mayBeBehind(primary, validity)) {
            // The node answers again after a hang or a cut: what was written to the backup meanwhile wins.
            try {
                Map<String, byte[]> found = store.getAll(backup,
                        Arrays.asList(removedKey(id), behindKey(id), backupKey(id), backupValidityKey(id)));
                if (found.get(removedKey(id)) != null) {
                    LOG.info("session {} was invalidated while memcached node {} did not answer; the copy it kept"
                            + " is deleted", SessionId.masked(id), primary);
                    ValidityRecord kept = ValidityRecord.decode(validity);
                    engine.backups().submit(id, ClusterWrite.removed(id, null,
                            markerExpiry(kept == null ? UNKNOWN_TIMEOUT_SECONDS : kept.maxInactiveInterval),
                            this::write));
                    statistics.increment(Statistics.Counter.LOAD_MISSES);
                    return null;
                }
                if (found.get(behindKey(id)) != null && found.get(backupKey(id)) != null) {
                    data = found.get(backupKey(id));
                    validity = found.get(backupValidityKey(id));
                    cas = 0;
                    fromBackup = true;
                }
            } catch (StoreException e) {
                health.markDown(backup, e.getMessage());
            }
        }
        if (data == null && primaryAnswered && wasRemoved(primary, id)) {
            statistics.increment(Statistics.Counter.LOAD_MISSES);
            return null; // invalidated or expired; a backup copy written late must not revive it
        }
        if (data == null && backup != null && health.isUp(backup)) {
            try {
                Map<String, byte[]> found = store.getAll(backup,
                        Arrays.asList(backupKey(id), backupValidityKey(id), removedKey(id)));
                if (found.get(removedKey(id)) == null) {
                    data = found.get(backupKey(id));
                    validity = found.get(backupValidityKey(id));
                    fromBackup = data != null;
                }
            } catch (StoreException e) {
                health.markDown(backup, e.getMessage());
            }
        }
        statistics.addLoadNanos(System.nanoTime() - start);
        if (data == null) {
            statistics.increment(Statistics.Counter.LOAD_MISSES);
            return null;
        }
        long now = engine.now();
        ValidityRecord v = ValidityRecord.decode(validity);
        if (v != null && v.isExpired(now)) {
            expiryWatch.note(id, v.expiresAt()); // sessionDestroyed fires from the expiry check
            return null;
        }
        SessionSnapshot loaded = engine.decode(id, fromBackup ? backup : primary, data, state);
        if (loaded == null) {
            return null;
        }
        statistics.increment(Statistics.Counter.LOADS);
        state.cas = cas;
        state.dataRefreshedAt = v == null ? 0 : v.dataRefreshedAt;
        state.recordedLastAccess = v == null ? 0 : v.lastAccessedTime;
        if (fromBackup) {
            statistics.increment(Statistics.Counter.BACKUP_READS);
            if (health.isUp(primary)) {
                rebuildPrimary(id, primary, data, loaded, v);
            }
        }
        long lastAccess = v == null ? loaded.lastAccessedTime() : v.lastAccessedTime;
        expiryWatch.note(id, expiresAt(lastAccess, loaded.maxInactiveInterval()));
        return new SessionSnapshot(id, loaded.creationTime(), lastAccess, loaded.maxInactiveInterval(),
                loaded.authType(), loaded.content());
    }

    /**
     * @return true when the session's node answers again after this Tomcat saw it down, recently
     *     enough that a copy it kept from before could still be alive
     */
    private boolean mayBeBehind(String primary, byte[] validity) {
        long back = health.backSince(primary);
        if (back == 0) {
            return false;
        }
        ValidityRecord v = ValidityRecord.decode(validity);
        if (v == null || v.maxInactiveInterval <= 0) {
            return true;
        }
        long copyLifetimeSeconds = SessionEngine.lifetimeSeconds(v.maxInactiveInterval) + EXPIRY_GRACE_SECONDS;
        return engine.now() - back < copyLifetimeSeconds * 1000L;
    }

    /** The session's node came back empty or behind: give it the backup's copy. */
    private void rebuildPrimary(String id, String primary, byte[] data, SessionSnapshot s, ValidityRecord v) {
        int expiry = expiry(s.maxInactiveInterval());
        try {
            store.set(primary, dataKey(id), data, expiry);
            if (v != null) {
                store.set(primary, validityKey(id), v.encode(), expiry);
            }
            statistics.increment(Statistics.Counter.PRIMARY_COPIES_REBUILT);
            LOG.info("session {} had no current copy on memcached node {}; restored there from its backup",
                    SessionId.masked(id), primary);
            String backup = backupNodes.get(primary);
            if (backup != null) {
                delete(backup, behindKey(id));
            }
        } catch (StoreException e) {
            health.markDown(primary, e.getMessage());
        }
    }

    // ---- store ----

    /**
     * Stores the session after the last request using it ends, before its lock is released. Nothing
     * but the validity record is written when the content is unchanged.
     */
    public void store(SessionSnapshot snapshot, SessionState state, SessionChanges changes) {
        String id = snapshot.id();
        SessionId sid = SessionId.parse(id);
        if (sid == null || !health.isKnown(sid.nodeId())) {
            return;
        }
        Transcoder writer = engine.writer();
        byte[] payload = writer.encode(snapshot.content());
        long fingerprint = Fingerprint.of(payload, snapshot.creationTime(), snapshot.maxInactiveInterval(),
                snapshot.authType());
        boolean sameId = id.equals(state.storedUnderId);
        if (sameId && fingerprint == state.storedFingerprint) {
            statistics.increment(Statistics.Counter.NON_STICKY_STORES_SKIPPED);
            accessed(snapshot, state);
            return;
        }
        String primary = sid.nodeId();
        String backup = backupNodes.get(primary);
        int expiry = expiry(snapshot.maxInactiveInterval());
        byte[] frame = engine.frame(snapshot, payload);
        String oldId = state.storedUnderId;
        byte[] stored = null;
        if (health.isUp(primary)) {
            try {
                stored = writePrimary(snapshot, state, changes, frame, expiry, sameId);
            } catch (StoreException e) {
                health.markDown(primary, e.getMessage());
            }
        }
        if (stored == null && !health.isUp(primary)) {
            stored = writeBackupOnly(id, backup, frame, expiry);
        }
        if (stored == null) {
            return;
        }
        statistics.increment(Statistics.Counter.NON_STICKY_STORES);
        long now = engine.now();
        state.storedUnderId = id;
        state.storedFingerprint = fingerprint;
        state.dataRefreshedAt = now;
        // The data was just rewritten; its validity record only when the recorded one lags too far.
        boolean recordValidity = !sameId || changes.isMaxInactiveChanged() || state.recordedLastAccess == 0
                || snapshot.lastAccessedTime() - state.recordedLastAccess
                        >= ValidityRecord.graceMillis(snapshot.maxInactiveInterval());
        if (recordValidity) {
            state.recordedLastAccess = snapshot.lastAccessedTime();
        }
        ValidityRecord validity = new ValidityRecord(snapshot.lastAccessedTime(), snapshot.maxInactiveInterval(), now);
        engine.backups().submit(id, ClusterWrite.stored(id, expiry, recordValidity ? validity.encode() : null, stored,
                oldId, this::write));
        expiryWatch.note(id, validity.expiresAt());
    }

    /** @return the frame written, or null when the session was deleted meanwhile (invalidated elsewhere) */
    private byte[] writePrimary(SessionSnapshot snapshot, SessionState state, SessionChanges changes, byte[] frame,
            int expiry, boolean sameId) throws StoreException {
        String id = snapshot.id();
        String node = SessionId.parse(id).nodeId();
        String key = dataKey(id);
        if (!sameId || state.cas == 0) {
            // New, renamed, or loaded from the backup copy: nothing to compare with.
            if (state.storedUnderId == null && store.add(node, key, frame, expiry)) {
                return frame;
            }
            store.set(node, key, frame, expiry);
            // Checked after the set: a removal writes its marker before it deletes, so either it
            // deletes this copy or this check sees its marker.
            if (sameId && removedMeanwhile(node, id)) {
                delete(node, key);
                LOG.info("session {} was invalidated on another Tomcat while a request used its backup copy; the"
                        + " request's changes are dropped", SessionId.masked(id));
                return null;
            }
            return frame;
        }
        long cas = state.cas;
        byte[] toWrite = frame;
        for (int attempt = 0; attempt < MAX_MERGES; attempt++) {
            SessionStore.CasOutcome outcome = store.cas(node, key, cas, toWrite, expiry);
            if (outcome == SessionStore.CasOutcome.STORED) {
                return toWrite;
            }
            SessionStore.Versioned newer = outcome == SessionStore.CasOutcome.GONE ? null : store.gets(node, key);
            if (newer == null) {
                LOG.info("session {} was removed from memcached while a request used it (invalidated on another"
                        + " Tomcat); it is not stored again", SessionId.masked(id));
                return null;
            }
            SessionSnapshot merged = merge(id, node, newer.value, snapshot, changes);
            toWrite = engine.frame(merged, engine.writer().encode(merged.content()));
            cas = newer.cas;
            statistics.increment(Statistics.Counter.NON_STICKY_STORES_MERGED);
        }
        LOG.warn("session {} changed on every one of {} merge attempts; this request's state overwrites it",
                SessionId.masked(id), MAX_MERGES);
        store.set(node, key, toWrite, expiry);
        return toWrite;
    }

    /** The newer copy, with this request's changes applied: what it set, removed, its login and timeout. */
    private SessionSnapshot merge(String id, String node, byte[] newerFrame, SessionSnapshot mine,
            SessionChanges changes) {
        SessionSnapshot newer = engine.decode(id, node, newerFrame, new SessionState());
        if (newer == null) {
            return mine; // the stored copy does not decode: ours is the only good one
        }
        Map<String, Object> attributes = new HashMap<>(newer.content().attributes());
        Map<String, Object> myAttributes = mine.content().attributes();
        for (String name : changes.set()) {
            Object value = myAttributes.get(name);
            if (value == null) {
                attributes.remove(name);
            } else {
                attributes.put(name, value);
            }
        }
        for (String name : changes.removed()) {
            attributes.remove(name);
        }
        boolean login = changes.isPrincipalChanged();
        return new SessionSnapshot(id, newer.creationTime(), Math.max(newer.lastAccessedTime(), mine.lastAccessedTime()),
                changes.isMaxInactiveChanged() ? mine.maxInactiveInterval() : newer.maxInactiveInterval(),
                login ? mine.authType() : newer.authType(),
                new SessionContent(attributes, login ? mine.content().principal() : newer.content().principal()));
    }

    private byte[] writeBackupOnly(String id, String backup, byte[] frame, int expiry) {
        if (backup == null || !health.isUp(backup)) {
            statistics.increment(Statistics.Counter.BACKUPS_FAILED);
            LOG.warn("session {} is not stored: neither its memcached node nor its backup node answers",
                    SessionId.masked(id));
            return null;
        }
        try {
            store.set(backup, backupKey(id), frame, expiry);
            store.set(backup, behindKey(id), MARKER, expiry);
            // The node's copy is older now: gone once it answers, so the backup's is read and restored there.
            String primary = SessionId.parse(id).nodeId();
            health.repairLater(primary, NodeRepairs.delete(dataKey(id)));
            health.repairLater(primary, NodeRepairs.delete(validityKey(id)));
            return frame;
        } catch (StoreException e) {
            health.markDown(backup, e.getMessage());
            statistics.increment(Statistics.Counter.BACKUPS_FAILED);
            LOG.warn("session {} is not stored: {}", SessionId.masked(id), e.getMessage());
            return null;
        }
    }

    /**
     * After a request that changed nothing: the validity record moves the last access forward on
     * both nodes, and the stored copies' expiry is pushed forward when it is about to lag behind.
     * Neither is written while the recorded last access is younger than the record's grace
     * ({@link ValidityRecord#graceMillis}), so a session read by request after request costs one
     * memcached read per request, not a read and two writes.
     */
    public void accessed(SessionSnapshot snapshot, SessionState state) {
        String id = snapshot.id();
        SessionId sid = SessionId.parse(id);
        if (sid == null || !health.isKnown(sid.nodeId())) {
            return;
        }
        int expiry = expiry(snapshot.maxInactiveInterval());
        long now = engine.now();
        boolean refresh = now - state.dataRefreshedAt >= SessionEngine.refreshSeconds(snapshot.maxInactiveInterval())
                * 1000L;
        long recorded = state.recordedLastAccess;
        if (!refresh && recorded != 0
                && snapshot.lastAccessedTime() - recorded < ValidityRecord.graceMillis(snapshot.maxInactiveInterval())) {
            statistics.increment(Statistics.Counter.VALIDITY_WRITES_SKIPPED);
            return;
        }
        long refreshedAt = refresh ? now : state.dataRefreshedAt;
        ValidityRecord validity = new ValidityRecord(snapshot.lastAccessedTime(), snapshot.maxInactiveInterval(),
                refreshedAt);
        engine.backups().submit(id, ClusterWrite.accessed(id, expiry, validity.encode(), refresh, this::write));
        expiryWatch.note(id, validity.expiresAt());
    }

    /**
     * Deletes every key of an invalidated or expired session and frees its lock. A marker on both
     * nodes outlives any copy of it, so that a backup copy another Tomcat writes late never brings
     * it back.
     */
    public void removed(String id, SessionState state, int maxInactiveInterval) {
        String old = state.storedUnderId;
        expiryWatch.forget(id);
        Future<Void> deleted = engine.backups().submit(id,
                ClusterWrite.removed(id, old, markerExpiry(maxInactiveInterval), this::write));
        try {
            // The lock is freed once the keys are gone, so the next request cannot load the session.
            deleted.get(removalWaitMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.info("session {} is still being deleted from memcached after {} ms; the request goes on",
                    SessionId.masked(id), removalWaitMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        unlock(state);
        state.storedFingerprint = 0;
        state.storedUnderId = null;
    }

    /** Runs on a backup thread; a later request's write for the same session waits for it. */
    private void write(ClusterWrite w) {
        for (String former : w.formerIds) {
            deleteAll(former);
        }
        if (w.removes()) {
            markRemoved(w.id, w.expiry);
            deleteAll(w.id);
            return;
        }
        SessionId sid = SessionId.parse(w.id);
        if (sid == null || !health.isKnown(sid.nodeId())) {
            return;
        }
        String primary = sid.nodeId();
        String backup = backupNodes.get(primary);
        String validityNode = w.validity == null ? null : primary;
        String backupValidityNode = w.validity == null ? null : backup;
        writeAll(w.expiry, new Write(validityNode, validityKey(w.id), w.validity),
                new Write(w.backupFrame == null ? null : backup, backupKey(w.id), w.backupFrame),
                new Write(backupValidityNode, backupValidityKey(w.id), w.validity));
        if (backup != null && (w.validity != null || w.backupFrame != null) && !health.isUp(primary)) {
            writeAll(w.expiry, new Write(backup, behindKey(w.id), MARKER));
        }
        if (w.touchData) {
            touch(primary, dataKey(w.id), w.expiry);
            if (backup != null && w.backupFrame == null) {
                touch(backup, backupKey(w.id), w.expiry);
            }
        }
    }

    /** @param expiry as long as any copy of the session could live */
    private void markRemoved(String id, int expiry) {
        SessionId sid = SessionId.parse(id);
        if (sid == null || !health.isKnown(sid.nodeId())) {
            return;
        }
        writeAll(expiry, new Write(sid.nodeId(), removedKey(id), MARKER),
                new Write(backupNodes.get(sid.nodeId()), removedKey(id), MARKER));
    }

    /** @return true when another Tomcat left the removal marker on the session's node or its backup node */
    private boolean removedMeanwhile(String node, String id) {
        if (health.isUp(node) && wasRemoved(node, id)) {
            return true;
        }
        String backup = backupNodes.get(node);
        return backup != null && health.isUp(backup) && wasRemoved(backup, id);
    }

    private boolean wasRemoved(String node, String id) {
        try {
            return store.get(node, removedKey(id)) != null;
        } catch (StoreException e) {
            health.markDown(node, e.getMessage());
            return false;
        }
    }

    private void deleteAll(String id) {
        SessionId sid = SessionId.parse(id);
        if (sid == null || !health.isKnown(sid.nodeId())) {
            return;
        }
        String primary = sid.nodeId();
        String backup = backupNodes.get(primary);
        delete(primary, dataKey(id));
        delete(primary, validityKey(id));
        if (backup != null) {
            delete(backup, backupKey(id));
            delete(backup, backupValidityKey(id));
            delete(backup, behindKey(id));
        }
        statistics.increment(Statistics.Counter.DELETES);
    }

    // ---- expiry across the cluster ----

    /**
     * Finds sessions this Tomcat served that are now idle past their timeout everywhere (their
     * validity record says so), and claims each with an {@code add}: of all Tomcats, only the one
     * whose claim succeeds gets the session back, to fire {@code sessionDestroyed} exactly once.
     */
    public List<SessionSnapshot> claimExpired() {
        long now = engine.now();
        List<SessionSnapshot> claimed = new ArrayList<>();
        for (String id : expiryWatch.due(now)) {
            SessionId sid = SessionId.parse(id);
            if (sid == null || !health.isKnown(sid.nodeId())) {
                expiryWatch.forget(id);
                continue;
            }
            String primary = sid.nodeId();
            String backup = backupNodes.get(primary);
            String node = health.isUp(primary) ? primary : backup;
            if (node == null || !health.isUp(node)) {
                continue; // try again on the next check
            }
            try {
                byte[] validityBytes = store.get(node, node.equals(primary) ? validityKey(id) : backupValidityKey(id));
                ValidityRecord v = ValidityRecord.decode(validityBytes);
                if (v == null) {
                    expiryWatch.forget(id); // removed, or never stored: nothing to expire
                    continue;
                }
                if (!v.isExpired(now)) {
                    expiryWatch.note(id, v.expiresAt()); // used elsewhere meanwhile
                    continue;
                }
                if (node.equals(primary) && backup != null && health.isUp(backup)
                        && mayBeBehind(primary, validityBytes)) {
                    ValidityRecord onBackup = ValidityRecord.decode(store.get(backup, backupValidityKey(id)));
                    if (onBackup != null && !onBackup.isExpired(now)) {
                        expiryWatch.note(id, onBackup.expiresAt()); // used while its node did not answer
                        continue;
                    }
                }
                expiryWatch.forget(id);
                if (!store.add(node, claimKey(id), new byte[] {1}, CLAIM_SECONDS)) {
                    continue; // another Tomcat expires it
                }
                byte[] data = store.get(node, node.equals(primary) ? dataKey(id) : backupKey(id));
                SessionSnapshot s = data == null ? null : engine.decode(id, node, data, new SessionState());
                if (s != null) {
                    statistics.increment(Statistics.Counter.SESSIONS_EXPIRED_IN_CLUSTER);
                    claimed.add(s);
                } else {
                    deleteAll(id);
                }
            } catch (StoreException e) {
                health.markDown(node, e.getMessage());
            }
        }
        return claimed;
    }

    /** @return how many sessions this Tomcat watches for expiry */
    public int watchedSessions() {
        return expiryWatch.size();
    }


    /** One set of {@link #writeAll}; a null node (no backup node) is skipped. */
    private static final class Write {
        final String node;
        final String key;
        final byte[] value;

        Write(String node, String key, byte[] value) {
            this.node = node;
            this.key = key;
            this.value = value;
        }
    }

    /** Sends every set first, then waits for them: one round trip of waiting instead of one per key. */
    private void writeAll(int expiry, Write... writes) {
        List<SessionStore.Sent> sent = new ArrayList<>(writes.length);
        List<Write> sentWrites = new ArrayList<>(writes.length);
        for (Write w : writes) {
            if (w.node == null) {
                continue;
            }
            if (!health.isUp(w.node)) {
                repairLater(w, expiry);
                continue;
            }
            try {
                sent.add(store.send(w.node, w.key, w.value, expiry));
                sentWrites.add(w);
            } catch (StoreException e) {
                health.markDown(w.node, e.getMessage());
                repairLater(w, expiry);
            }
        }
        for (int i = 0; i < sent.size(); i++) {
            try {
                store.finish(sent.get(i));
            } catch (StoreException e) {
                health.markDown(sent.get(i).nodeId, e.getMessage());
                repairLater(sentWrites.get(i), expiry);
            }
        }
    }

    /**
     * A marker is set once the node answers again; anything else it missed is deleted there, so
     * that the node's older value is never read in place of the one written elsewhere.
     */
    private void repairLater(Write w, int expiry) {
        health.repairLater(w.node, w.value == MARKER ? NodeRepairs.set(w.key, MARKER, expiry)
                : NodeRepairs.delete(w.key));
    }

    private void touch(String node, String key, int expiry) {
        if (!health.isUp(node)) {
            return;
        }
        try {
            store.touch(node, key, expiry);
        } catch (StoreException e) {
            health.markDown(node, e.getMessage());
        }
    }

    private void delete(String node, String key) {
        try {
            health.deleteOrRepairLater(store, node, key);
        } catch (StoreException e) {
            statistics.increment(Statistics.Counter.DELETE_FAILURES);
        }
    }

    /** Longer than a copy written late (within seconds of the removal) can live; 0, like it, never ends. */
    private int markerExpiry(int maxInactive) {
        int copy = expiry(maxInactive);
        return copy == 0 ? 0 : copy + EXPIRY_GRACE_SECONDS;
    }

    private int expiry(int maxInactive) {
        return maxInactive <= 0 ? 0 : engine.expiry(maxInactive) + EXPIRY_GRACE_SECONDS;
    }

    private static long expiresAt(long lastAccess, int maxInactive) {
        return new ValidityRecord(lastAccess, maxInactive, 0).expiresAt();
    }
}

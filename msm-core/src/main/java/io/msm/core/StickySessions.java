package io.msm.core;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;

/**
 * Sticky mode, the adapter's side of it: a session lives in this Tomcat's memory, is loaded from
 * memcached only when its Tomcat died or this one lost it, moves when its node is down or its route
 * names another Tomcat, and is backed up after the requests that may have changed it.
 */
public final class StickySessions {
    private static final Logger LOG = Logs.get(StickySessions.class);

    private final SessionStore store;
    private final NodeHealth health;
    private final SessionCodec codec;
    private final Statistics statistics;
    private final Ticker ticker;
    private final SessionNames names;
    private final StickyBackups backups;
    /** Null with {@code sessionBackupAsync="false"}: every request compares its session. */
    private final DeferredComparisons comparisons;
    /** Null without {@code compatibility}. */
    private final Msm2Copies msm2;

    /** Per-request lines while a node is down: any client can send ids of sessions that do not exist. */
    private final OncePerMinute logLimit;
    private final MovedMarks movedMarks;

    StickySessions(SessionStore store, NodeHealth health, SessionCodec codec, Statistics statistics, Ticker ticker,
            SessionNames names, StickyBackups backups, DeferredComparisons comparisons, Msm2Copies msm2,
            OncePerMinute logLimit, MovedMarks movedMarks) {
        this.logLimit = logLimit;
        this.movedMarks = movedMarks;
        this.msm2 = msm2;
        this.store = store;
        this.health = health;
        this.codec = codec;
        this.statistics = statistics;
        this.ticker = ticker;
        this.names = names;
        this.backups = backups;
        this.comparisons = comparisons;
    }

    /** Sessions idle past their limit give up their attributes' bytes, also while no other session is busy. */
    public void dropIdleBytes() {
        backups.dropIdleBytes();
    }

    void heldEntries(Map<String, Integer> held) {
        held.put("DeferredComparisons", comparisons == null ? 0 : comparisons.size());
        held.put("SessionsBeingRemoved", backups.beingRemoved());
        held.put("IdsRenamedFrom", backups.renamedFrom());
        held.put("SessionsKeepingBytes", backups.keepingBytes());
    }

    /**
     * @return the id the session must take before this request goes on (this Tomcat's route, a
     *     node that is up, a regular node rather than a failover one), or null when it may keep its id
     */
    public SessionId movedId(SessionId current, String jvmRoute) {
        SessionId target = current;
        String route = jvmRoute == null || jvmRoute.isEmpty() ? null : jvmRoute;
        if (route == null ? current.jvmRoute() != null : !route.equals(current.jvmRoute())) {
            target = target.withRoute(route);
        }
        if (health.shouldMove(current.nodeId())) {
            MemcachedNode node = health.pick();
            if (!node.id().equals(current.nodeId())) {
                target = target.withNode(node.id());
            }
        }
        return target == current ? null : target;
    }

    /**
     * A session of this Tomcat's memory was renamed to {@link #movedId}: counted and logged here, not
     * when the new id is worked out, since anyone can send ids of sessions that do not exist. A takeover
     * from another Tomcat's route leaves a mark under the old id ({@link #movedMark}).
     *
     * @return the mark of an earlier takeover found under {@code to}, which the copy now under it is to
     *     ignore (its delete may have failed); 0 for none; {@link #MARK_UNKNOWN} when it could not be read
     */
    public long moved(SessionId from, SessionId to, int maxInactive) {
        if (!from.nodeId().equals(to.nodeId())) {
            statistics.increment(Statistics.Counter.RELOCATIONS);
            // A node's outage moves every session used meanwhile: a line each would bury its one WARN.
            // Keyed by known nodes only: a Tomcat that takes client ids over holds sessions of made-up nodes.
            if (logLimit.allow("move " + (health.isKnown(from.nodeId()) ? from.nodeId() : "?") + " " + to.nodeId())) {
                LOG.info("session {} moves from memcached node {} to {} (a new id, a new cookie); RELOCATIONS counts"
                        + " each session moved ({} so far); this line repeats at most once a minute for these nodes",
                        from.masked(), from.nodeId(), to.nodeId(), statistics.get(Statistics.Counter.RELOCATIONS));
            }
        }
        return movedMarks.moved(from, to, from.jvmRoute() != null && !from.jvmRoute().equals(to.jvmRoute()),
                maxInactive);
    }

    /**
     * @return the mark another Tomcat left when it took the session over from this id, or 0: a copy
     *     this Tomcat got under it without that mark is out of date, and would outlive a logout there.
     *     A memcached read: asked once a minute per copy in use.
     */
    public long movedMark(SessionId id) {
        return movedMarks.markOf(id);
    }

    /** See {@link #moved}: the copy takes the first mark it finds under its id as its own. */
    public static final long MARK_UNKNOWN = MovedMarks.UNKNOWN;

    /**
     * Loads a session another Tomcat stored, or one this Tomcat lost from memory.
     *
     * @param id an id whose node is known ({@link SessionEngine#knownId})
     * @param state receives what memcached holds, so an unchanged session is not written back
     * @return null when memcached has no usable copy: missing, node down, or bytes that do not decode
     */
    public SessionSnapshot load(SessionId id, SessionState state) {
        if (backups.isBeingRemoved(id)) {
            return null;
        }
        String node = id.nodeId();
        // A node out of use but connected is asked anyway, unless a logout of this session waits to be
        // done there: the session lives on that node alone, and this load (a takeover, a restart) is
        // the user's only way back to it. One failed operation, another session's, takes a node out of
        // use for up to 2 s, and a Tomcat's death brings a burst of takeovers.
        // Not while the health check's probes find it silent (NodeHealth.mayAskAnyway).
        if (!health.isUp(node) && !health.mayAskAnyway(node, names.of(id))) {
            statistics.increment(Statistics.Counter.LOAD_FAILURES);
            if (logLimit.allow("down " + node)) {
                LOG.info("session {} cannot be loaded: memcached node {} is down; LOAD_FAILURES counts each such"
                        + " request ({} so far); this line repeats at most once a minute", id.masked(), node,
                        statistics.get(Statistics.Counter.LOAD_FAILURES));
            }
            return null;
        }
        long start = ticker.nanoTime();
        byte[] bytes;
        boolean[] clearNamed = new boolean[1];
        try {
            bytes = msm2 == null ? readOurs(node, id, clearNamed) : msm2.get(store, node, id,
                    () -> readOurs(node, id, clearNamed));
            health.recordSuccess(node, ticker.nanoTime() - start);
        } catch (StoreException e) {
            health.failed(node, e);
            statistics.increment(Statistics.Counter.LOAD_FAILURES);
            if (logLimit.allow("failed " + node)) {
                LOG.warn("session {} cannot be loaded: {}; LOAD_FAILURES counts each such request ({} so far); this"
                        + " line repeats at most once a minute", id.masked(), e.getMessage(),
                        statistics.get(Statistics.Counter.LOAD_FAILURES));
            }
            return null;
        } finally {
            statistics.addLoadNanos(ticker.nanoTime() - start);
        }
        if (bytes == null) {
            statistics.increment(Statistics.Counter.LOAD_MISSES);
            return null;
        }
        long epoch = health.epoch(node);
        SessionSnapshot snapshot;
        if (msm2 != null && Msm2Frame.looksLike(bytes)) {
            snapshot = msm2.decode(id, node, bytes);
            if (snapshot != null) {
                // Not stored in msm's format yet, so the next backup writes it in full; under this id, so
                // a rename deletes the copies left under it.
                state.loaded(id, 0, 0);
            }
        } else {
            snapshot = clearNamed[0] ? codec.decodeClearNamed(id, node, bytes, state)
                    : codec.decode(id, node, bytes, state);
        }
        if (snapshot != null) {
            state.nodeEpoch = epoch;
            // memcached does not say when the copy's expiry was last pushed forward: a copy read in the
            // last part of its life would expire there while unchanged requests skip their touch.
            state.lastRefreshMillis = 0;
            statistics.increment(Statistics.Counter.LOADS);
            if (state.storedUnderId == null) {
                // A clear copy read while switching to encryption: under this id all the same, so that a
                // move deletes it, as any copy left under an old id. Its next store writes in full.
                state.loaded(id, 0, 0);
            }
        }
        return snapshot;
    }

    /** @param clearNamed set to true when the bytes come from the name from before encryption */
    private byte[] readOurs(String node, SessionId id, boolean[] clearNamed) throws StoreException {
        byte[] bytes = store.get(node, names.of(id));
        String clearName = bytes == null ? names.beforeEncryption("", id) : null;
        if (clearName == null) {
            return bytes;
        }
        clearNamed[0] = true; // written before encryption was switched on
        return store.get(node, clearName);
    }

    /**
     * After a request: backs the session up now, or defers its comparison with memcached (see
     * {@link DeferredComparisons}). A deferred comparison of a session still in use is put off again.
     *
     * @param changedThroughApi true when the request set or removed an attribute, logged in or out,
     *     or changed the timeout
     */
    public void requestEnded(HeldSession session, boolean changedThroughApi) {
        if (mustCompareNow(session.sessionId(), session.state(), changedThroughApi)) {
            afterRequest(session::snapshot, session.state());
        } else {
            long since = ticker.nanoTime();
            compareLater(session.state(), () -> compareIfIdle(session, since), 0);
        }
    }

    /**
     * A session in use may be one whose request passed its own check already (Tomcat counts it out
     * later): put off, but not for longer than {@link DeferredComparisons#MAX_PUT_OFF_MILLIS}, since a
     * long upload would otherwise keep an earlier request's change out of memcached as long as it runs;
     * and not at all once the webapp stops.
     */
    private void compareIfIdle(HeldSession session, long deferredSince) {
        if (!session.isValid()) {
            return;
        }
        if (session.isInUse() && !comparisons.isStopping()
                && ticker.nanoTime() - deferredSince < DeferredComparisons.MAX_PUT_OFF_MILLIS * 1_000_000L) {
            compareLater(session.state(), () -> compareIfIdle(session, deferredSince),
                    DeferredComparisons.CHANGE_WINDOW_MILLIS);
            return;
        }
        afterRequest(session::snapshot, session.state());
    }

    boolean mustCompareNow(SessionId id, SessionState state, boolean changedThroughApi) {
        return comparisons == null || comparisons.mustCompareNow(id, state, changedThroughApi);
    }

    void compareLater(SessionState state, Runnable compare, long minDelayMillis) {
        if (comparisons != null) {
            comparisons.later(state, compare, minDelayMillis);
        }
    }

    /**
     * Backs up a session after a request: nothing when it is unchanged and its expiry in memcached
     * is fresh, a touch when only the expiry must move, the whole session otherwise. Asynchronous
     * unless {@code sessionBackupAsync="false"}, which waits up to {@code sessionBackupTimeout}.
     */
    void afterRequest(SessionSnapshot snapshot, SessionState state) {
        afterRequest(() -> snapshot, state);
    }

    /**
     * As {@link #afterRequest(SessionSnapshot, SessionState)}, taking the snapshot once no other
     * backup of the session is being prepared: backups of one session are so encoded, queued and sent
     * in the order their snapshots were taken, and an older one never overwrites a newer one.
     */
    void afterRequest(Supplier<SessionSnapshot> snapshot, SessionState state) {
        // With sessionBackupAsync="false" the wait for memcached's answer is inside too: the requests
        // of one session that end together are backed up one after the other, in order.
        synchronized (state.backupOrder) {
            backups.backUp(snapshot.get(), state);
        }
    }

    /**
     * @return true for a session whose latest content memcached does not hold although its node is
     *     up again, such as one created while every node was down; the adapter backs it up. Not for
     *     one refused as too large: a request's end or a change outside requests tries it again
     */
    public boolean needsBackup(SessionId id, SessionState state) {
        if (state.nodeEpoch != health.epoch(id.nodeId()) && state.isBackedUp(id)) {
            state.backupMissed(); // its node came back empty since: the next backup writes in full
        }
        return !state.isBackedUp(id) && !state.tooLarge && health.isUp(id.nodeId());
    }

    /**
     * @param nodesDown the nodes that were down before the engine closed (a closed engine sees every
     *     node down)
     * @return true when memcached may not hold the session's latest content: never stored under this
     *     id, newer content still queued (a stop drops backups that wait too long), its node is down,
     *     or its node came back empty since it was stored
     */
    public boolean onlyInMemory(SessionId id, SessionState state, java.util.Set<String> nodesDown) {
        return !state.isBackedUp(id) || state.queuedFingerprint() != 0 || nodesDown.contains(id.nodeId())
                || state.nodeEpoch != health.epoch(id.nodeId());
    }

    /**
     * The bytes of a session memcached does not hold (no node answered), for the next start of this
     * webapp in this JVM to take back: a reload or redeploy must not lose what only memory holds.
     */
    public byte[] frameToKeep(SessionSnapshot snapshot) {
        return codec.frame(snapshot);
    }

    /**
     * The restored session's own state is left "not backed up", so it is written once a node answers.
     *
     * @param shipped every transcoder msm ships: a reload that changed {@code transcoderFactoryClass}
     *     still reads what the previous start kept, since those bytes never left the JVM
     * @return the session a stopped instance of this webapp kept, or null when its bytes do not decode here
     */
    public SessionSnapshot restoreKept(SessionId id, byte[] frame, List<Transcoder> shipped) {
        SessionSnapshot snapshot = codec.decodeKept(id, "(kept in this JVM)", frame, new SessionState(), shipped);
        if (snapshot != null) {
            statistics.increment(Statistics.Counter.SESSIONS_KEPT_OVER_RESTART);
        }
        return snapshot;
    }

    /**
     * A session held here is about to be renamed (a login, a move): until its copy under the old id
     * is deleted, a request with the old id loads nothing.
     */
    public void renamed(SessionId from, SessionId to, SessionState state) {
        backups.renamed(from, to, state);
    }

    /** At stop: the deletes not done yet (old ids' copies, dropped removals) are left to the next start. */
    void queueUndoneDeletes() {
        backups.queueUndoneDeletes();
    }

    /**
     * Deletes an invalidated or expired session from memcached, after any backup still queued for it,
     * without waiting: for sessions that end outside a request (the background expiry).
     */
    public void removed(SessionId id, SessionState state) {
        backups.remove(id, state, false);
    }

    /**
     * As {@link #removed}, for a session that ends in a request (a logout, or an expiry the request
     * found): returns once memcached no longer holds it, or after two {@code operationTimeout}s, so
     * that the answer never goes out while a copy another Tomcat could load as logged in remains.
     */
    public void removedByRequest(SessionId id, SessionState state) {
        backups.remove(id, state, true);
    }
}

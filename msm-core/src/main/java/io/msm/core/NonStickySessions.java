package io.msm.core;

import java.util.List;
import java.util.Map;

/**
 * Non-sticky mode, the adapter's side of it: memcached is the primary store and no Tomcat keeps a
 * session between requests. A request opens its session (lock, then load, and the lock is freed
 * again when there is nothing to load), stores it when the last request using it here ends, then
 * releases it; one that changed it and ends before the others stores it too ({@link #storeShared}).
 * A session lives on the node its id names, with a backup copy on the next node.
 */
public final class NonStickySessions {
    private final NodeHealth health;
    private final NonStickyLocking locking;
    private final NonStickyLoader loader;
    private final NonStickyWriter writer;
    private final ClusterExpiry expiry;
    private final RecentSessions recent;

    NonStickySessions(NodeHealth health, NonStickyLocking locking, NonStickyLoader loader, NonStickyWriter writer,
            ClusterExpiry expiry, RecentSessions recent) {
        this.recent = recent;
        this.health = health;
        this.locking = locking;
        this.loader = loader;
        this.writer = writer;
        this.expiry = expiry;
    }

    /**
     * @param method the HTTP method, which {@code lockingMode="auto"} learns by too
     * @param uri the request URI with its query string, as {@code lockingMode="uriPattern:..."} sees it
     */
    public boolean mustLock(String method, String uri) {
        return locking.mustLock(method, uri);
    }

    /**
     * Loads the session for a request, locked first when {@code locked}; a lock taken for a session
     * that turns out missing is freed at once.
     *
     * @param id an id whose node is known ({@link SessionEngine#knownId})
     * @return null when there is no live copy
     */
    public SessionSnapshot open(SessionId id, SessionState state, boolean locked) {
        if (locked) {
            locking.lock(id, state);
        } else {
            locking.skipped();
        }
        SessionSnapshot snapshot;
        try {
            snapshot = loader.load(id, state);
        } catch (RuntimeException | Error e) {
            locking.unlock(state); // else every next request of the session waits for a lock nobody holds
            throw e;
        }
        if (snapshot == null) {
            locking.unlock(state);
        } else {
            recent.seen(id);
        }
        return snapshot;
    }

    /**
     * Stores the session after the last request using it here ends; {@link #release} follows.
     * Nothing but the validity record is written when the content is unchanged.
     */
    public void store(SessionSnapshot snapshot, SessionState state, SessionChanges changes) {
        if (health.isKnown(snapshot.id().nodeId())) {
            recent.seen(snapshot.id());
            writer.store(snapshot, state, changes, false);
        }
    }

    /**
     * Stores a session that requests still running here share, at the end of one that changed it, so
     * that its answer goes out only once memcached holds the change, as for a request alone; their
     * ends store again. Its lock stays held.
     *
     * @return false when the changes were not written (refused, too large, no node answers): they
     *     stay recorded, and the next store writes them
     */
    public boolean storeShared(SessionSnapshot snapshot, SessionState state, SessionChanges changes) {
        return storeInUse(snapshot, state, changes) != NonStickyWriter.Stored.NOT;
    }

    /**
     * Stores a session that requests still use, when its changes must be done once written: before a
     * failed request's answer, while the error page Tomcat renders after it keeps using it (the error
     * page's end stores it again); or before the request holding its lock frees it while requests that
     * do not lock go on with the copy.
     *
     * @param changes a copy, taken before the snapshot
     * @return true when the session's node holds this write as written, or held its content already:
     *     the changes stored are done,
     *     and a later store may merge only what came after, never these over a newer copy another
     *     Tomcat stored after the answer; false when they must go on being merged (not
     *     written, written to the backup node alone, or merged with another Tomcat's copy)
     */
    public boolean storeAsWritten(SessionSnapshot snapshot, SessionState state, SessionChanges changes) {
        return storeInUse(snapshot, state, changes) == NonStickyWriter.Stored.DONE;
    }

    private NonStickyWriter.Stored storeInUse(SessionSnapshot snapshot, SessionState state, SessionChanges changes) {
        return health.isKnown(snapshot.id().nodeId()) ? writer.store(snapshot, state, changes, true)
                : NonStickyWriter.Stored.NOT;
    }

    /** @return true when an access at {@code accessedAt} would be written by {@link #accessedWhileShared} */
    public boolean isAccessDue(int timeout, long accessedAt, SessionState state) {
        return AccessRecords.isDue(timeout, accessedAt, state);
    }

    /**
     * A request that shared the copy with others here ended without a change, and the others still
     * use it: its access goes in the validity record when due, as a request alone's load does, so
     * that the cluster's expiry does not end a session its user works with through this copy.
     */
    public void accessedWhileShared(SessionId id, int timeout, long accessedAt, SessionState state) {
        if (health.isKnown(id.nodeId())) {
            writer.recordAccess(id, timeout, accessedAt, state);
        }
    }

    /** Frees the session's lock, if this Tomcat holds it. */
    public void release(SessionState state) {
        locking.unlock(state);
    }

    /** For {@code lockingMode="auto"}: what a request to this URI did to its session. */
    public void learn(String method, String uri, boolean changedSession) {
        locking.learn(method, uri, changedSession);
    }

    /**
     * Deletes every key of an invalidated or expired session, then frees its lock: the next request
     * cannot load it.
     */
    public void removed(SessionId id, SessionState state, int maxInactiveInterval) {
        writer.removed(id, state, maxInactiveInterval);
        locking.unlock(state);
    }

    /** @see NonStickyWriter#queueUndoneRemovals */
    int queueUndoneRemovals() {
        return writer.queueUndoneRemovals();
    }

    /** @return sessions idle past their timeout everywhere, claimed by this Tomcat to fire sessionDestroyed */
    public List<SessionSnapshot> claimExpired() {
        return expiry.claimExpired();
    }

    int recentSessions() {
        return recent.count();
    }

    void heldEntries(Map<String, Integer> held) {
        held.put("NearCopies", loader.nearCopies());
        held.put("WatchedForExpiry", expiry.watchedSessions());
        held.put("RecentSessions", recent.count());
        held.put("PendingRemovals", writer.pendingRemovals());
    }

    /** @return how many sessions this Tomcat watches for expiry */
    public int watchedSessions() {
        return expiry.watchedSessions();
    }
}

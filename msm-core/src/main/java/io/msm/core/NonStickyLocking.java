package io.msm.core;

import java.util.Arrays;

/**
 * Which non-sticky requests lock their session ({@code lockingMode}), and the lock itself: on the
 * session's node, or on its backup node while that one is down.
 */
final class NonStickyLocking {
    private final LockingMode mode;
    private final ReadOnlyUris readOnlyUris = new ReadOnlyUris();
    private final SessionLocks locks;
    private final NonStickyKeys keys;
    private final Statistics statistics;

    NonStickyLocking(LockingMode mode, SessionLocks locks, NonStickyKeys keys, Statistics statistics) {
        this.mode = mode;
        this.locks = locks;
        this.keys = keys;
        this.statistics = statistics;
    }

    /**
     * @param method the HTTP method, which {@code auto} learns by too
     * @param uri the request URI with its query string, as {@code uriPattern} sees it
     */
    boolean mustLock(String method, String uri) {
        switch (mode.kind) {
            case ALL:
                return true;
            case NONE:
                return false;
            case URI_PATTERN:
                return mode.pattern.matcher(uri).matches();
            default:
                return !readOnlyUris.isReadOnly(method, uri);
        }
    }

    /** For {@code lockingMode="auto"}: what a request to this URI did to its session. */
    void learn(String method, String uri, boolean changedSession) {
        readOnlyUris.learn(method, uri, changedSession);
    }

    /** Counts a request that touched a session without its lock, for the statistics. */
    void skipped() {
        statistics.increment(Statistics.Counter.LOCKS_SKIPPED);
    }

    /** Takes the session's cluster lock for this Tomcat, waiting at most {@code lockWaitTimeout}. */
    void lock(SessionId id, SessionState state) {
        String node = id.nodeId();
        // The load's read of the session's node goes with the lock's add: one round trip for both.
        state.lock = locks.acquire(keys.lock(id), Arrays.asList(node, keys.backupNode(node)), id.masked(),
                keys.data(id), keys.validity(id));
    }

    void unlock(SessionState state) {
        SessionLocks.Lock lock = state.lock;
        state.lock = null;
        if (lock != null) {
            locks.release(lock);
        }
    }
}

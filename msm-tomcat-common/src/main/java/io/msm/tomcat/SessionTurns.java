package io.msm.tomcat;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Requests of one session take turns; requests of different sessions never wait for each other.
 * Each session id in use has its own {@link Turn}, made by the first request that needs it and
 * dropped when the last one leaves. A striped lock did the same in fixed memory, but two sessions
 * that shared a stripe then waited for each other's memcached round trip and decode: with 32
 * requests in flight, most of a non-sticky Tomcat's time went to that.
 */
final class SessionTurns {
    /**
     * One session's turn: its monitor (sticky) or {@link #load} (non-sticky) guards the load, its
     * permit the locking requests.
     */
    static final class Turn {
        final String id;
        /** Fair: locking requests of one session run in the order they came. */
        final Semaphore permit = new Semaphore(1, true);
        /** Non-sticky: held while a request joins the copy in memory or loads it; tried by those past the cap. */
        final ReentrantLock load = new ReentrantLock();
        /**
         * Locking requests waiting for {@link #permit} or for {@link #load}, or about to: counted
         * before the wait, so a cap holds exactly.
         */
        final AtomicInteger waitingWriters = new AtomicInteger();
        /** The same for requests that do not lock: they never push a locking request past its cap. */
        final AtomicInteger waitingReaders = new AtomicInteger();
        /** Held while a request past the cap loads the copy they share; never while joining a copy. */
        final Object unlistedLoad = new Object();
        /** Non-sticky: the copy that requests past the waiting cap share; see NonStickyRequests. */
        volatile MemcachedSession unlisted;
        /** Non-sticky: requests past the cap found no session; they do not read again. */
        volatile boolean unlistedMissing;
        /** Non-sticky: the session ended (logout, expiry) while requests were inside. */
        volatile boolean ended;
        /** Requests that entered and have not left; changed only inside the map's compute. */
        private int users;

        private Turn(String id) {
            this.id = id;
        }
    }

    private final ConcurrentHashMap<String, Turn> turns = new ConcurrentHashMap<>();

    /** @return the session's turn, kept until every {@code enter} is matched by a {@link #leave} */
    Turn enter(String id) {
        return turns.compute(id, (k, t) -> {
            Turn turn = t == null ? new Turn(k) : t;
            turn.users++;
            return turn;
        });
    }

    /** @return the turn of a session id a request is inside of now, or null */
    Turn inUse(String id) {
        return turns.get(id);
    }

    void leave(Turn turn) {
        turns.computeIfPresent(turn.id, (k, t) -> t == turn && --t.users == 0 ? null : t);
    }

    /** Session ids with a request inside; zero when the Tomcat is idle. */
    int inUse() {
        return turns.size();
    }
}

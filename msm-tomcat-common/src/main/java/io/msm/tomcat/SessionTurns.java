package io.msm.tomcat;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests of one session take turns; requests of different sessions never wait for each other.
 * Each session id in use has its own {@link Turn}, made by the first request that needs it and
 * dropped when the last one leaves. A striped lock did the same in fixed memory, but two sessions
 * that shared a stripe then waited for each other's memcached round trip and decode: with 32
 * requests in flight, most of a non-sticky Tomcat's time went to that.
 */
final class SessionTurns {
    /** One session's turn: its monitor guards the load, its permit the locking requests. */
    static final class Turn {
        final String id;
        /** Fair: locking requests of one session run in the order they came. */
        final Semaphore permit = new Semaphore(1, true);
        /**
         * Non-sticky: locking requests waiting for {@link #permit} or for the memcached lock, or
         * about to: counted before the wait, so a cap holds exactly.
         */
        final AtomicInteger waiting = new AtomicInteger();
        /** Non-sticky: copies of this session that ended (logouts) while requests were inside. */
        final AtomicInteger ends = new AtomicInteger();
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

    /** @return the turn of a session id that requests are inside of now, or null */
    Turn inUse(String id) {
        return id == null ? null : turns.get(id);
    }

    void leave(Turn turn) {
        turns.computeIfPresent(turn.id, (k, t) -> t == turn && --t.users == 0 ? null : t);
    }

    /** Session ids with a request inside; zero when the Tomcat is idle. */
    int inUse() {
        return turns.size();
    }
}

package io.msm.core;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;

/**
 * Non-sticky sessions that should be alive and that neither copy held: this Tomcat served the
 * session and its timeout has not run out, yet both nodes answered without it and no invalidation
 * was recorded. memcached evicted both copies, or both nodes lost them (restarted empty before a
 * request rebuilt the first). The user was logged out; this says so, with a count, at most once a
 * minute per node.
 */
final class MissingSessions {
    private static final Logger LOG = Logs.get(MissingSessions.class);

    private final Statistics statistics;
    private final OncePerMinute logLimit;
    /** Per primary node, sessions missing since its last WARN. */
    private final ConcurrentHashMap<String, AtomicLong> sinceLogged = new ConcurrentHashMap<>();

    MissingSessions(Statistics statistics, Clock clock) {
        this.statistics = statistics;
        this.logLimit = new OncePerMinute(clock);
    }

    /** A session expected alive was not found on its node {@code primary} nor on {@code backup}. */
    void missing(SessionId id, String primary, String backup) {
        statistics.increment(Statistics.Counter.SESSIONS_MISSING);
        AtomicLong ofNode = sinceLogged.computeIfAbsent(primary, n -> new AtomicLong());
        ofNode.incrementAndGet();
        if (logLimit.allow(primary)) {
            long count = ofNode.getAndSet(0);
            LOG.warn("{} session(s) this Tomcat served and expected alive were in neither memcached node {} nor {}"
                    + " (the last {}): evicted for lack of memory (see ITEMS_EVICTED) or lost with both nodes (see"
                    + " NODES_FOUND_EMPTY); their users start new sessions. Counted in SESSIONS_MISSING", count,
                    primary, backup == null ? "(no backup node)" : backup, id.masked());
        }
    }
}

package io.msm.core;

import java.time.Clock;

/**
 * How long copies live in memcached, in one place: the sticky copy outlives its session's timeout
 * by the slack a touch needs, a non-sticky copy by a grace in which the cluster can still fire
 * {@code sessionDestroyed}, a removal marker longer than any copy written late.
 */
final class Expiry {
    /** Non-sticky copies outlive their timeout by this much, so the cluster can still fire sessionDestroyed. */
    static final int GRACE_SECONDS = 300;
    private static final int MAX_REFRESH_SECONDS = 60;
    /** memcached reads an expiry beyond 30 days as an absolute Unix time. */
    private static final int MAX_RELATIVE_EXPIRY = 30 * 24 * 3600;

    private final Clock clock;

    Expiry(Clock clock) {
        this.clock = clock;
    }

    long now() {
        return clock.millis();
    }

    /**
     * How long the expiry in memcached may lag behind the session's last access, and so how often the
     * copies of a session used without changes are touched: a tenth of the idle timeout, at most a
     * minute. Stored entries live that much longer than the timeout, so a session only read still
     * outlives its timeout in memcached without a write per request. A session that never expires is
     * touched only for memcached's LRU: once a minute.
     */
    static int refreshSeconds(int maxInactive) {
        return maxInactive <= 0 ? MAX_REFRESH_SECONDS : Math.min(maxInactive / 10, MAX_REFRESH_SECONDS);
    }

    /** @return how long a stored copy outlives its session's last access; for a positive timeout */
    static long lifetimeSeconds(int maxInactive) {
        return (long) maxInactive + refreshSeconds(maxInactive);
    }

    /** @return the memcached expiry of a sticky copy; 0, never, for a session that never expires */
    int sticky(int maxInactive) {
        return maxInactive <= 0 ? 0 : memcachedExpiry(lifetimeSeconds(maxInactive));
    }

    /** @return the memcached expiry of a non-sticky copy and its validity record */
    int nonSticky(int maxInactive) {
        return maxInactive <= 0 ? 0 : memcachedExpiry(lifetimeSeconds(maxInactive) + GRACE_SECONDS);
    }

    /** Longer than a copy written late (within seconds of the removal) can live; 0, like it, never ends. */
    int removalMarker(int maxInactive) {
        return maxInactive <= 0 ? 0 : memcachedExpiry(lifetimeSeconds(maxInactive) + 2 * GRACE_SECONDS);
    }

    /**
     * Converted only after the grace is added: a relative expiry pushed past 30 days by it would be
     * read as a time in 1970, and the item would expire at once.
     */
    private int memcachedExpiry(long seconds) {
        return seconds <= MAX_RELATIVE_EXPIRY ? (int) seconds
                : (int) Math.min(Integer.MAX_VALUE, clock.millis() / 1000 + seconds);
    }

    /**
     * @param backSince when this Tomcat saw the node answer again after an outage, 0 if never
     * @param v the session's validity record on that node, or null
     * @return true when the node came back recently enough that a copy it kept from before the
     *     outage could still be alive, and older than one written to the backup node meanwhile
     */
    boolean mayBeBehind(long backSince, ValidityRecord v) {
        if (backSince == 0) {
            return false;
        }
        if (v == null || v.maxInactiveInterval <= 0) {
            return true;
        }
        long copyLifetimeSeconds = lifetimeSeconds(v.maxInactiveInterval) + GRACE_SECONDS;
        return clock.millis() - backSince < copyLifetimeSeconds * 1000L;
    }
}

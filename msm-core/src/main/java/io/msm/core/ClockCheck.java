package io.msm.core;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;

/**
 * Compares this Tomcat's wall clock with the memcached nodes' own, and says so when they differ.
 * Non-sticky Tomcats judge a session's expiry by last-access times other Tomcats wrote: a Tomcat
 * whose clock runs ahead finds sessions in use elsewhere expired, refuses them and destroys them
 * for the whole cluster. msm cannot tell which clock is right (memcached's {@code time} counts from
 * its own start, and misses later steps of its host's clock), so it changes nothing and warns.
 */
final class ClockCheck {
    private static final Logger LOG = Logs.get(ClockCheck.class);
    /** Differences below this are memcached's one-second resolution and ordinary drift. */
    static final long TOLERANCE_MILLIS = 30_000;

    private final OncePerMinute logLimit;
    /** Per node: how far this clock was ahead of the node's at its last statistics read (negative: behind). */
    private final Map<String, Long> offsets = new ConcurrentHashMap<>();

    ClockCheck(OncePerMinute logLimit) {
        this.logLimit = logLimit;
    }

    /**
     * @param serverSeconds the node's {@code time} statistic; below 1 when unknown
     * @param localMillis this Tomcat's wall clock when the answer came
     */
    void heard(String node, long serverSeconds, long localMillis) {
        if (serverSeconds < 1) {
            return;
        }
        // The node's clock is somewhere within its second: taken at the middle.
        offsets.put(node, localMillis - (serverSeconds * 1000 + 500));
        long off = offsetFromEveryNode();
        if (off != 0 && logLimit.allow("clock")) {
            LOG.warn("this Tomcat's clock is {} s {} every memcached node's ({} ms per node). Non-sticky Tomcats"
                    + " judge a session's expiry by the last access other Tomcats wrote, in their clocks: one whose"
                    + " clock is ahead ends the sessions others used as much too early, and one whose clock is behind"
                    + " records its users' accesses as much too early, so the others end those sessions too early."
                    + " Make the Tomcats' clocks agree (NTP). If only memcached's"
                    + " is off (it counts from its own start and misses later corrections of its host's clock), this"
                    + " is harmless; this line repeats at most once a minute", Math.round(Math.abs(off) / 1000.0),
                    off > 0 ? "ahead of" : "behind", offsets);
        }
    }

    /**
     * @return the offset to the nearest node when every node heard lies past the tolerance on the same
     *     side of this clock; else 0 (within it, or the nodes disagree among themselves)
     */
    long offsetFromEveryNode() {
        long nearest = 0;
        boolean first = true;
        for (long o : offsets.values()) {
            if (Math.abs(o) <= TOLERANCE_MILLIS) {
                return 0;
            }
            if (first) {
                nearest = o;
                first = false;
            } else if (Long.signum(o) != Long.signum(nearest)) {
                return 0;
            } else if (Math.abs(o) < Math.abs(nearest)) {
                nearest = o;
            }
        }
        return nearest;
    }
}

package io.msm.core;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;

/**
 * Compares this Tomcat's wall clock with the memcached nodes' own. Non-sticky Tomcats judge a
 * session's expiry by last-access times other Tomcats wrote: a Tomcat whose clock runs ahead would
 * find sessions in use elsewhere expired, and destroy them for the whole cluster. When this clock
 * disagrees with every node's by more than {@link #TOLERANCE_MILLIS}, those judgements use the
 * nearest node's clock instead ({@link Expiry#clusterNow}), and a WARN says so once a minute.
 */
final class ClockCheck {
    private static final Logger LOG = Logs.get(ClockCheck.class);
    /** Skew below this is left alone: the grace of an expiry is up to a minute, and memcached tells seconds. */
    static final long TOLERANCE_MILLIS = 30_000;

    private final Expiry expiry;
    private final OncePerMinute logLimit;
    /** Per node: how far this clock was ahead of the node's at its last statistics read (negative: behind). */
    private final Map<String, Long> offsets = new ConcurrentHashMap<>();

    ClockCheck(Expiry expiry, OncePerMinute logLimit) {
        this.expiry = expiry;
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
        long applied = appliedOffset();
        long before = expiry.clockOffsetMillis();
        expiry.clockOffset(applied);
        if (applied != 0 && logLimit.allow("clock")) {
            LOG.warn("this Tomcat's clock is {} s {} every memcached node's ({} ms per node). Non-sticky sessions'"
                    + " expiry is judged by the nearest node's clock meanwhile, but what this Tomcat writes carries its"
                    + " own times, which the other Tomcats misjudge by as much: correct the clock (NTP); this line"
                    + " repeats at most once a minute", Math.abs(applied) / 1000, applied > 0 ? "ahead of" : "behind",
                    offsets);
        } else if (applied == 0 && before != 0) {
            LOG.info("this Tomcat's clock agrees with the memcached nodes' again ({} ms per node)", offsets);
        }
    }

    /** The offset of the nearest node, when every node's lies past the tolerance on the same side; else 0. */
    private long appliedOffset() {
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
                return 0; // the nodes disagree among themselves: nothing to trust more than this clock
            } else if (Math.abs(o) < Math.abs(nearest)) {
                nearest = o;
            }
        }
        return nearest;
    }
}

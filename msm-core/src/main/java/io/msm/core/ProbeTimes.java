package io.msm.core;

import java.util.Arrays;

/**
 * A node's last few health-check round trips, and their median: what "answers fastest" means
 * when new sessions choose a node. A median of five moves on a lasting change within seconds, and
 * not on one slow answer (the first probe of a new connection, a pause of the JVM).
 */
final class ProbeTimes {
    private static final int KEPT = 5;

    private final long[] nanos = new long[KEPT];
    private int count;
    private int next;

    synchronized void record(long roundTripNanos) {
        nanos[next] = roundTripNanos;
        next = (next + 1) % KEPT;
        count = Math.min(count + 1, KEPT);
    }

    /** @return how many round trips are kept, at most five */
    synchronized int count() {
        return count;
    }

    /**
     * @return the lower median of the kept round trips, or 0 before the first. Of an even count the
     *     lower one: a slow first answer (a new connection on a busy host) then keeps a node out of new
     *     sessions until its next answer only, about a second, where the upper one kept it out for two
     *     (seen in CI: 189 new sessions against 11). A node in another site is still judged at once:
     *     sessions put there at start would stay there for their whole life.
     */
    synchronized long median() {
        if (count == 0) {
            return 0;
        }
        long[] kept = Arrays.copyOf(nanos, count);
        Arrays.sort(kept);
        return kept[(count - 1) / 2];
    }
}

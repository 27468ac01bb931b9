package io.msm.core;

import java.util.Arrays;

/**
 * A node's last few health-check round trips, and their median: what "answers fastest" means
 * when new sessions choose a node. A median of five moves on a lasting change within seconds, and
 * not on one slow answer (the first probe of a new connection, a pause of the JVM).
 */
final class ProbeTimes {
    private static final int KEPT = 5;
    /**
     * Fewer answers than this judge nothing: with one or two, a slow first answer on a busy host was the
     * median and kept an equal node out of new sessions (seen in CI: 189 against 11).
     */
    private static final int JUDGED_FROM = 3;

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

    /** @return the median of the kept round trips, or 0 while fewer than three were kept */
    synchronized long median() {
        if (count < JUDGED_FROM) {
            return 0;
        }
        long[] kept = Arrays.copyOf(nanos, count);
        Arrays.sort(kept);
        return kept[count / 2];
    }
}

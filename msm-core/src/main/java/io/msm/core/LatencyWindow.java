package io.msm.core;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Operation times of the last minute, for a monitor: six slots of ten seconds, each a histogram
 * with buckets a quarter of a power of two wide (within 19% of the true value), so that the mean
 * and the 99th percentile cost a few array reads and no allocation per operation.
 */
final class LatencyWindow {
    private static final int SLOTS = 6;
    private static final long SLOT_MILLIS = 10_000;
    /** 4 buckets per power of two from 1 µs to about 2^34 µs: more than any operation takes. */
    private static final int BUCKETS = 4 * 35;

    private final Ticker ticker;
    private final AtomicLongArray counts = new AtomicLongArray(SLOTS * BUCKETS);
    private final AtomicLongArray sums = new AtomicLongArray(SLOTS);
    /** The ten-second tick each slot holds; cleared under the lock, read without it. */
    private final AtomicLongArray slotStart = new AtomicLongArray(SLOTS);

    LatencyWindow(Ticker ticker) {
        this.ticker = ticker;
    }

    void record(long nanos) {
        long micros = Math.max(1, nanos / 1000);
        int slot = slot();
        counts.incrementAndGet(slot * BUCKETS + bucket(micros));
        sums.addAndGet(slot, micros);
    }

    /** @return the slot of now, cleared first when it last held an older ten seconds */
    private int slot() {
        long tick = ticker.nanoTime() / 1_000_000 / SLOT_MILLIS;
        int slot = (int) (tick % SLOTS);
        if (slotStart.get(slot) != tick) {
            synchronized (this) { // once per slot and ten seconds
                if (slotStart.get(slot) != tick) {
                    for (int b = 0; b < BUCKETS; b++) {
                        counts.set(slot * BUCKETS + b, 0);
                    }
                    sums.set(slot, 0);
                    slotStart.set(slot, tick);
                }
            }
        }
        return slot;
    }

    static int bucket(long micros) {
        int log = 63 - Long.numberOfLeadingZeros(micros); // floor(log2)
        int quarter = log < 2 ? 0 : (int) ((micros >> (log - 2)) & 3);
        return Math.min(BUCKETS - 1, log * 4 + quarter);
    }

    /** The upper bound of a bucket, in microseconds. */
    static long upper(int bucket) {
        int log = bucket / 4;
        int quarter = bucket % 4;
        return log < 2 ? (1L << (log + 1)) - 1 : (1L << log) + ((long) (quarter + 1) << (log - 2)) - 1;
    }

    /** @return count, mean and 99th percentile in microseconds of the last minute; zeros when empty */
    long[] summary() {
        long now = ticker.nanoTime() / 1_000_000 / SLOT_MILLIS;
        long[] merged = new long[BUCKETS];
        long count = 0;
        long sum = 0;
        synchronized (this) {
            for (int s = 0; s < SLOTS; s++) {
                if (now - slotStart.get(s) >= SLOTS) {
                    continue; // older than a minute
                }
                for (int b = 0; b < BUCKETS; b++) {
                    long c = counts.get(s * BUCKETS + b);
                    merged[b] += c;
                    count += c;
                }
                sum += sums.get(s);
            }
        }
        if (count == 0) {
            return new long[] {0, 0, 0};
        }
        long rank = (long) Math.ceil(count * 0.99);
        long seen = 0;
        long p99 = 0;
        for (int b = 0; b < BUCKETS; b++) {
            seen += merged[b];
            if (seen >= rank) {
                p99 = upper(b);
                break;
            }
        }
        return new long[] {count, sum / count, p99};
    }
}

package io.msm.benchmarks;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Latencies and problems of a fixed-rate run, in buckets of equal time since its start, so that a
 * fault's window and the time after it can be read apart. Latencies are in microseconds, to two
 * significant digits: a bucket costs tens of kilobytes, and a 1% error does not change a p99.
 */
final class Timeline {
    private static final long MAX_MICROS = 120_000_000L;

    private final long startNanos;
    private final long bucketNanos;
    private final AtomicReferenceArray<Bucket> buckets;
    /** The first problems users saw, described, to say what went wrong besides how often. */
    private final java.util.List<String> firstProblems = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** What one bucket saw. */
    static final class Bucket {
        final ConcurrentHistogram latencies = new ConcurrentHistogram(MAX_MICROS, 2);
        final LongAdder errors = new LongAdder();
        final LongAdder non2xx = new LongAdder();
        final LongAdder sessionsLost = new LongAdder();
        final LongAdder incrementsLost = new LongAdder();
        final LongAdder incrementsRepeated = new LongAdder();
        final LongAdder renamed = new LongAdder();
    }

    Timeline(long startNanos, long bucketMillis, long totalMillis) {
        this.startNanos = startNanos;
        this.bucketNanos = bucketMillis * 1_000_000L;
        this.buckets = new AtomicReferenceArray<>((int) (totalMillis / bucketMillis) + 2);
    }

    /** Keeps the first few descriptions of what a user saw go wrong. */
    void problem(String what) {
        if (firstProblems.size() < 20) {
            firstProblems.add(String.format(java.util.Locale.ROOT, "%.1f s: %s",
                    (System.nanoTime() - startNanos) / 1e9, what));
        }
    }

    java.util.List<String> firstProblems() {
        return firstProblems;
    }

    long startNanos() {
        return startNanos;
    }

    /** @return the bucket of a moment, the last one for moments past the end */
    Bucket at(long nanos) {
        int i = (int) Math.max(0, Math.min(buckets.length() - 1, (nanos - startNanos) / bucketNanos));
        Bucket b = buckets.get(i);
        if (b == null) {
            buckets.compareAndSet(i, null, new Bucket());
            b = buckets.get(i);
        }
        return b;
    }

    void latency(long intendedNanos, long doneNanos) {
        at(intendedNanos).latencies.recordValue(Math.min(MAX_MICROS, Math.max(0, (doneNanos - intendedNanos) / 1000)));
    }

    int bucketIndex(long millisFromStart) {
        return (int) Math.min(buckets.length(), Math.max(0, millisFromStart * 1_000_000L / bucketNanos));
    }

    int buckets() {
        return buckets.length();
    }

    /** @return the buckets from {@code from} (inclusive) to {@code to} (exclusive) added together */
    Window window(int from, int to) {
        Window w = new Window();
        for (int i = Math.max(0, from); i < Math.min(to, buckets.length()); i++) {
            Bucket b = buckets.get(i);
            if (b != null) {
                w.latencies.add(b.latencies);
                w.errors += b.errors.sum();
                w.non2xx += b.non2xx.sum();
                w.sessionsLost += b.sessionsLost.sum();
                w.incrementsLost += b.incrementsLost.sum();
                w.incrementsRepeated += b.incrementsRepeated.sum();
                w.renamed += b.renamed.sum();
            }
        }
        return w;
    }

    /** A stretch of the run. */
    static final class Window {
        final Histogram latencies = new Histogram(MAX_MICROS, 2);
        long errors;
        long non2xx;
        long sessionsLost;
        long incrementsLost;
        long incrementsRepeated;
        long renamed;

        /** @return answers that were not what the user expected: failed, non-2xx, lost */
        long problems() {
            return errors + non2xx + sessionsLost + incrementsLost;
        }

        long requests() {
            return latencies.getTotalCount();
        }

        double p50Millis() {
            return latencies.getTotalCount() == 0 ? Double.NaN : latencies.getValueAtPercentile(50) / 1000.0;
        }

        double p99Millis() {
            return latencies.getTotalCount() == 0 ? Double.NaN : latencies.getValueAtPercentile(99) / 1000.0;
        }

        double maxMillis() {
            return latencies.getTotalCount() == 0 ? Double.NaN : latencies.getMaxValue() / 1000.0;
        }

        void add(Window other) {
            latencies.add(other.latencies);
            errors += other.errors;
            non2xx += other.non2xx;
            sessionsLost += other.sessionsLost;
            incrementsLost += other.incrementsLost;
            incrementsRepeated += other.incrementsRepeated;
            renamed += other.renamed;
        }
    }
}

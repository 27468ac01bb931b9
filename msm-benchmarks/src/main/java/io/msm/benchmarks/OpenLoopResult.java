package io.msm.benchmarks;

import org.HdrHistogram.Histogram;

/** What one configuration did in one open-loop round: the rate asked and done, latencies from when each request was due. */
final class OpenLoopResult {
    final double intendedPerSecond;
    final double achievedPerSecond;
    final double p50Millis;
    final double p99Millis;
    final double p999Millis;
    final double maxMillis;
    final long requests;
    final Tally tally;

    OpenLoopResult(double intendedPerSecond, double achievedPerSecond, Histogram latencies, Tally tally) {
        this.intendedPerSecond = intendedPerSecond;
        this.achievedPerSecond = achievedPerSecond;
        this.p50Millis = latencies.getValueAtPercentile(50) / 1e6;
        this.p99Millis = latencies.getValueAtPercentile(99) / 1e6;
        this.p999Millis = latencies.getValueAtPercentile(99.9) / 1e6;
        this.maxMillis = latencies.getMaxValue() / 1e6;
        this.requests = latencies.getTotalCount();
        this.tally = tally;
    }

    long problems() {
        return tally.errors + tally.non2xx + tally.lost;
    }

    @Override
    public String toString() {
        return String.format("%8.0f of %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  max %7.2f ms  errors %d"
                + "  non-2xx %d  lost %d", achievedPerSecond, intendedPerSecond, p50Millis, p99Millis, p999Millis,
                maxMillis, tally.errors, tally.non2xx, tally.lost);
    }
}

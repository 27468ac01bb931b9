package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StatisticsTest {
    /** An outage's loads that timed out are loads too: their time over the loads found swelled the mean for months. */
    @Test
    void theMeanLoadTimeIsOfEveryLoadAskedFoundOrNot() {
        Statistics statistics = new Statistics();
        statistics.addLoadNanos(200_000); // found
        statistics.increment(Statistics.Counter.LOADS);
        statistics.addLoadNanos(1_000_000_000); // timed out
        statistics.increment(Statistics.Counter.LOAD_FAILURES);
        for (int i = 0; i < 8; i++) {
            statistics.addLoadNanos(200_000);
            statistics.increment(Statistics.Counter.LOADS);
        }
        assertEquals((9 * 200_000 + 1_000_000_000) / 10 / 1000, statistics.meanLoadMicros());
    }
}

package io.msm.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * CI's short soak: the soak run as an operator starts it ({@code -Dbench=soak}), three minutes long
 * with a memcached node restarted empty every minute and a sample every 20 s (the pom sets them). It fails when a
 * user lost a session or an increment, or when a sampled figure kept growing; the output above the
 * failure says which.
 */
class SoakRunIT {
    @Test
    void threeMinutesOfChurnAndRestartsLoseNothingAndGrowNothing() throws Exception {
        SoakRun soak = new SoakRun(new BenchOptions());
        int exit = soak.run();
        assertEquals(0, exit, () -> "the soak run failed (its tables above say more): " + soak.failures());
    }
}

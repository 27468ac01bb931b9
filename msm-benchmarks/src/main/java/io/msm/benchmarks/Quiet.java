package io.msm.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

/**
 * Waits between rounds until this JVM is nearly idle, so that what one configuration left queued
 * (asynchronous backups, a full backup queue in non-sticky mode, msm 2.3.2's background threads)
 * does not run during the next configuration's round and count against it.
 */
final class Quiet {
    private static final long SAMPLE_MILLIS = 200;
    /** Below a tenth of one core over a sample counts as idle. */
    private static final long IDLE_CPU_NANOS = TimeUnit.MILLISECONDS.toNanos(SAMPLE_MILLIS) / 10;
    private static final long MAX_WAIT_MILLIS = 30_000;

    private Quiet() {
    }

    /** @return milliseconds waited; at most 30 s, after which the round starts anyway */
    static long await() throws InterruptedException {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(MAX_WAIT_MILLIS);
        long cpu = os.getProcessCpuTime();
        while (System.nanoTime() < deadline) {
            Thread.sleep(SAMPLE_MILLIS);
            long now = os.getProcessCpuTime();
            if (now - cpu < IDLE_CPU_NANOS) {
                break;
            }
            cpu = now;
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}

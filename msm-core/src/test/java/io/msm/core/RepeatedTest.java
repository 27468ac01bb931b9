package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** A periodic task that throws, an error included, runs again at its next turn, on a real scheduler. */
class RepeatedTest {
    @Test
    void anErrorDoesNotEndTheTask() throws Exception {
        ScheduledExecutorService threads = EngineThreads.single("test-repeated");
        try {
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch ranAfterBoth = new CountDownLatch(1);
            Repeated.schedule(threads, () -> {
                int run = runs.incrementAndGet();
                if (run == 1) {
                    throw new OutOfMemoryError("Java heap space (test)");
                }
                if (run == 2) {
                    throw new IllegalStateException("test");
                }
                ranAfterBoth.countDown();
            }, 0, 10, "test task", "/test", new OncePerMinute(Clock.systemUTC()));
            assertTrue(ranAfterBoth.await(10, TimeUnit.SECONDS), "ran again after an error and an exception");
        } finally {
            threads.shutdownNow();
        }
    }
}

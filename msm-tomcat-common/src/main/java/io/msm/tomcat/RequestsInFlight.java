package io.msm.tomcat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The requests between msm's valve and the end of their session handling (an async request until
 * its cycle completes). A stopping manager waits for them, bounded: the change a request makes in
 * its last moments, or its logout, is stored before the engine closes, not dropped.
 *
 * <p>Two adders rather than one lock: every request passes here, and only a stop ever waits.
 */
final class RequestsInFlight {
    private static final long POLL_MILLIS = 10;
    private final LongAdder entered = new LongAdder();
    private final LongAdder left = new LongAdder();

    void enter() {
        entered.increment();
    }

    void leave() {
        left.increment();
    }

    /** @return how many requests were still running when {@code maxMillis} ran out; 0 when all ended */
    long awaitNone(long maxMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        long running;
        // left is read first: a request that enters and leaves between the two reads counts as running.
        while ((running = -left.sum() + entered.sum()) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(POLL_MILLIS);
        }
        return Math.max(running, 0);
    }
}

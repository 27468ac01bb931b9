package io.msm.core;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;

/**
 * A task the engine runs every so often, which no throwable ends. The JDK cancels a periodic task for
 * good at its first exception or error, silently: an {@code OutOfMemoryError} in passing (an upload
 * that filled the heap) would have ended the node probes, and with them every repair and recovery,
 * until the next restart.
 */
final class Repeated implements Runnable {
    private static final Logger LOG = Logs.get(Repeated.class);

    private final Runnable task;
    private final String what;
    private final String webapp;
    private final OncePerMinute lines;

    private Repeated(Runnable task, String what, String webapp, OncePerMinute lines) {
        this.task = task;
        this.what = what;
        this.webapp = webapp;
        this.lines = lines;
    }

    /** Runs the task every {@code everyMillis} after the last run ended, the first after {@code firstMillis}. */
    static void schedule(ScheduledExecutorService threads, Runnable task, long firstMillis, long everyMillis,
            String what, String webapp, OncePerMinute lines) {
        threads.scheduleWithFixedDelay(new Repeated(task, what, webapp, lines), firstMillis, everyMillis,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
        try {
            task.run();
        } catch (Throwable t) {
            try {
                if (lines.allow(what)) {
                    LOG.error("msm for {}: the {} failed, and runs again at its next turn; this line repeats at most"
                            + " once a minute", webapp, what, t);
                }
            } catch (Throwable alsoFailed) {
                // Out of memory still: the next turn logs it
            }
        }
    }
}

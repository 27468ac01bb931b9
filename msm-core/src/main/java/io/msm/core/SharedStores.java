package io.msm.core;

import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;

/**
 * Non-sticky mode: parallel requests of one session in one Tomcat share its copy, stored when the
 * last of them ends. A request that changed it and ended first would wait for the others, a download
 * for minutes, and a Tomcat dying meanwhile would lose its change (a login, a form). Its change is
 * stored {@value #DELAY_MILLIS} ms after it ended instead, when the session is still shared then: the
 * window sticky mode's asynchronous backups have. Requests that end within it, as a page's parallel
 * requests do, leave the store to the last of them, as before.
 */
final class SharedStores {
    private static final Logger LOG = Logs.get(SharedStores.class);
    static final long DELAY_MILLIS = 100;

    /** Null when the engine was given no scheduler: stores then wait for the last request, as before. */
    private final ScheduledExecutorService scheduler;
    /** The store each session has waiting, so that a change made meanwhile schedules no second one. */
    private final Map<SessionState, Pending> scheduled = new ConcurrentHashMap<>();

    SharedStores(ScheduledExecutorService scheduler) {
        this.scheduler = scheduler;
    }

    /** One session's store; runs once, whether its time comes or the webapp stops first. */
    private final class Pending implements Runnable {
        private final SessionState state;
        private final Runnable store;

        Pending(SessionState state, Runnable store) {
            this.state = state;
            this.store = store;
        }

        @Override
        public void run() {
            if (scheduled.remove(state, this)) { // from here on, a change schedules the next store
                store.run();
            }
        }
    }

    /**
     * @param store stores what the session's requests changed so far, unless the last of them has
     *     ended by then (it stored them)
     */
    void soon(SessionState state, Runnable store) {
        if (scheduler == null) {
            return;
        }
        Pending pending = new Pending(state, store);
        if (scheduled.putIfAbsent(state, pending) != null) {
            return; // the store waiting already takes this change too
        }
        try {
            scheduler.schedule(pending, DELAY_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            scheduled.remove(state, pending); // the webapp stops: the last request's end stores it
        }
    }

    /** At stop: the stores still waiting run now, on the stopping thread, before the connections close. */
    void flush() {
        if (scheduler == null) {
            return;
        }
        scheduler.shutdown(); // what is still waiting after the wait below runs here, and not again
        try {
            // Those due within the delay run on its thread, with the connections they need: bounded.
            scheduler.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Pending p : new ArrayList<>(scheduled.values())) {
            try {
                p.run();
            } catch (RuntimeException e) {
                LOG.warn("storing a session that requests still running share failed at stop", e);
            }
        }
    }

    /** @return sessions whose store waits */
    int size() {
        return scheduled.size();
    }
}

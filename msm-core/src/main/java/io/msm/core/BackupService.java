package io.msm.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;

/**
 * Runs session backups off the request thread, in order per session. At most one backup per
 * session waits: a newer one replaces it, since only the latest state matters, except that a
 * waiting removal is never replaced. The pool's queue is
 * bounded; when it is full the request thread runs its own backup, so overload slows requests
 * down instead of growing the heap.
 */
final class BackupService {
    private static final Logger LOG = Logs.get(BackupService.class);

    /** One backup of one session. */
    interface Job {
        void run();

        /** @return true when this job deletes the session: no later job of it may take its place */
        default boolean removes() {
            return false;
        }

        /**
         * Called when this job comes while another for the same session still waits.
         *
         * @return what runs instead of both; by default this job, as it carries the latest state, but
         *     a waiting removal stays: a write that comes after it is of a session that no longer
         *     exists, and replacing the removal would leave the session in memcached
         */
        default Job absorb(Job waiting) {
            return waiting.removes() ? waiting : this;
        }

        /** @return the session's id, for a log line; null where the job's key is the id, or none is known */
        default SessionId session() {
            return null;
        }
    }

    private final ConcurrentHashMap<Object, Slot> slots = new ConcurrentHashMap<>();
    private final ExecutorService pool;
    private final Statistics statistics;
    private final String webapp;
    /** A failure of msm's own repeats at every backup: its line at most once a minute. */
    private final OncePerMinute lines = new OncePerMinute(java.time.Clock.systemUTC());

    /**
     * @param pool runs the backups; one that refuses when full makes the request thread run its own
     * @param webapp named in the line of a shutdown that drops backups
     */
    BackupService(ExecutorService pool, Statistics statistics, String webapp) {
        this.pool = pool;
        this.statistics = statistics;
        this.webapp = webapp;
    }

    /**
     * @param session what identifies the session: jobs with equal keys run one after the other, in order
     * @return completes when this job, or a newer one for the same session that replaced it, has run
     */
    CompletableFuture<Void> submit(Object session, Job job) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        while (true) {
            Slot slot = slots.computeIfAbsent(session, s -> new Slot(s));
            boolean dispatch;
            synchronized (slot) {
                if (slot.retired) {
                    continue;
                }
                slot.next = slot.next == null ? job : job.absorb(slot.next);
                slot.waiting.add(done);
                dispatch = !slot.scheduled;
                slot.scheduled = true;
            }
            if (dispatch) {
                try {
                    pool.execute(() -> drain(slot));
                } catch (RejectedExecutionException | Error e) {
                    // Full, or no thread could be made for it ("unable to create native thread", the heap full in
                    // passing): run here. Left scheduled but never run, the session's later jobs, its logout's
                    // delete included, would wait behind it for good.
                    drain(slot);
                    statistics.increment(Statistics.Counter.BACKUPS_RUN_BY_REQUEST_THREAD);
                }
            }
            return done;
        }
    }

    /**
     * Runs the slot's jobs until none is left. Should an error leave it anyway (the heap full, in a job or
     * in the line that logs its failure), the slot is handed on: kept scheduled with nobody to run it,
     * the session's later jobs would wait for good.
     */
    private void drain(Slot slot) {
        boolean drained = false;
        try {
            runJobs(slot);
            drained = true;
        } finally {
            if (!drained) {
                handOn(slot);
            }
        }
    }

    private void runJobs(Slot slot) {
        while (true) {
            Job job;
            List<CompletableFuture<Void>> waiting;
            List<CompletableFuture<Void>> fresh = new ArrayList<>(2); // made before the slot is changed
            synchronized (slot) {
                job = slot.next;
                if (job == null) {
                    retire(slot);
                    return;
                }
                slot.next = null;
                waiting = slot.waiting;
                slot.waiting = fresh;
            }
            try {
                job.run();
            } catch (Throwable e) { // a checked exception thrown sneakily too: the slot must go on
                try {
                    if (lines.allow("unexpected")) {
                        SessionId id = slot.session instanceof SessionId ? (SessionId) slot.session : job.session();
                        LOG.error("msm for {}: a write of session {} failed unexpectedly (a fault of msm's, or the heap"
                                + " full); sticky: the session stays in this Tomcat's memory; this line repeats at most"
                                + " once a minute", webapp, id == null ? "(not known)" : id.masked(), e);
                    }
                } catch (Throwable alsoFailed) {
                    // the heap full still: the job's waiters are told below all the same
                }
            } finally {
                for (CompletableFuture<Void> f : waiting) {
                    f.complete(null);
                }
            }
        }
    }

    /**
     * After an error left {@link #runJobs} (the heap full as it made its list): the slot's next job goes
     * to a pool thread, else runs here; should it fail again, to the session's next submit.
     */
    private void handOn(Slot slot) {
        synchronized (slot) {
            if (slot.next == null) {
                retire(slot);
                return;
            }
        }
        try {
            pool.execute(() -> drain(slot));
            return;
        } catch (Throwable refused) {
            // Full, stopping, or no thread for it: run here, once
        }
        try {
            runJobs(slot);
        } catch (Throwable again) {
            synchronized (slot) {
                slot.scheduled = false; // the next submit of the session dispatches what is left
            }
            throw again;
        }
    }

    /** Guarded by the slot's monitor. */
    private void retire(Slot slot) {
        slot.scheduled = false;
        slot.retired = true;
        slots.remove(slot.session, slot);
    }

    /** @return sessions whose job waits or runs */
    int waiting() {
        return slots.size();
    }

    /** Waits up to the given time for queued backups to finish, then stops the threads. */
    void shutdown(long waitMillis) {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(waitMillis, TimeUnit.MILLISECONDS)) {
                int dropped = pool.shutdownNow().size();
                LOG.warn("msm for {}: {} session writes still queued after {} ms at shutdown were not done; sticky"
                        + " sessions among them stay in this JVM for the webapp's next start, as the line on sessions"
                        + " kept says", webapp, dropped, waitMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pool.shutdownNow();
        }
    }

    /** The pending backup of one session and who waits for it. */
    private static final class Slot {
        final Object session;
        Job next;
        List<CompletableFuture<Void>> waiting = new ArrayList<>(2);
        boolean scheduled;
        boolean retired;

        Slot(Object session) {
            this.session = session;
        }
    }
}

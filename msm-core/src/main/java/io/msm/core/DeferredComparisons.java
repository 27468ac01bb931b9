package io.msm.core;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;

/**
 * Sticky mode with asynchronous backups: when a session is transcoded and compared with memcached.
 * A session changed through the session API (attributes set or removed, login, timeout) is compared
 * at most once per {@value #CHANGE_WINDOW_MILLIS} ms, one only read (or changed in place) at most once
 * per {@value #IN_PLACE_CHECK_MILLIS} ms; a comparison scheduled for the end of the window covers
 * the last request of a burst. Transcoding is most of what a backup costs the request thread.
 */
final class DeferredComparisons {
    private static final Logger LOG = Logs.get(DeferredComparisons.class);
    /**
     * How long a change made through the session API may wait when the session was compared less
     * than this long ago. The first change after a quiet spell is written at once; a session changed
     * by request after request is written once per this window, at its end.
     */
    static final long CHANGE_WINDOW_MILLIS = 100;
    /** How long a session that a request did not change through the API may wait for its comparison. */
    static final long IN_PLACE_CHECK_MILLIS = 1000;
    /** How long a comparison waits for the requests holding its session to leave, at most. */
    static final long MAX_PUT_OFF_MILLIS = 1000;

    private final ScheduledExecutorService scheduler;
    private final Expiry clock;
    /** What each scheduled comparison runs, so that {@link #flush} can run those still waiting. */
    private final Map<SessionState, Runnable> pending = new ConcurrentHashMap<>();
    /** A failure of msm's own may repeat at every comparison: its line at most once a minute. */
    private final OncePerMinute lines = new OncePerMinute(java.time.Clock.systemUTC());
    /** Set when {@link #flush} begins: the scheduler takes nothing more. */
    private volatile boolean stopping;

    /** @return comparisons waiting for their session's next request or the end of its wait */
    int size() {
        return pending.size();
    }

    DeferredComparisons(ScheduledExecutorService scheduler, Expiry clock) {
        this.scheduler = scheduler;
        this.clock = clock;
    }

    /**
     * @param changedThroughApi true when the request set or removed an attribute, logged in or out,
     *     or changed the timeout
     * @return whether the session must be compared now; otherwise {@link #later} covers it
     */
    boolean mustCompareNow(SessionId id, SessionState state, boolean changedThroughApi) {
        if (!state.isBackedUp(id)) {
            return true;
        }
        if (changedThroughApi) {
            state.changePending = true;
        }
        long since = clock.now() - state.lastComparedMillis;
        // Negative after the wall clock stepped back: due now, not once the clock has caught up.
        return since >= window(state) || since < 0;
    }

    private static long window(SessionState state) {
        return state.changePending ? CHANGE_WINDOW_MILLIS : IN_PLACE_CHECK_MILLIS;
    }

    /**
     * Runs {@code compare} once, when the session's comparison is due and not before
     * {@code minDelayMillis}, unless one is scheduled for then or earlier already.
     */
    void later(SessionState state, Runnable compare, long minDelayMillis) {
        if (stopping) {
            compare.run(); // flush() ran or runs: a comparison asked for now would never run otherwise
            return;
        }
        long now = clock.now();
        // min(): a comparison made before the wall clock stepped back lies in the future; the change
        // must not wait for the clock to catch up with it (hours of backups missed).
        long due = Math.max(Math.min(state.lastComparedMillis, now) + window(state), now + minDelayMillis);
        while (true) {
            long scheduled = state.compareScheduledFor();
            if (scheduled != 0 && scheduled <= due) {
                return;
            }
            if (state.compareScheduledFor(scheduled, due)) {
                break;
            }
        }
        try {
            pending.put(state, compare);
            scheduler.schedule(() -> {
                state.compareScheduledFor(due, 0);
                pending.remove(state, compare);
                try {
                    compare.run();
                } catch (RuntimeException | LinkageError | StackOverflowError e) {
                    // Swallowed by the scheduler otherwise, without a line.
                    if (lines.allow("deferred")) {
                        LOG.error("deferred backup of a session failed; it is compared again after its next request;"
                                + " this line repeats at most once a minute", e);
                    }
                }
            }, Math.max(0, due - clock.now()), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            state.compareScheduledFor(due, 0);
            // Stopping: flush() may have run its pending ones already.
            if (pending.remove(state, compare)) {
                compare.run();
            }
        } catch (RuntimeException | Error e) {
            // Not scheduled (the heap full as the task was made): left marked as scheduled, the session's
            // changes would never be compared again until its next request after the window.
            state.compareScheduledFor(due, 0);
            pending.remove(state, compare);
            throw e;
        }
    }

    /** @return true once {@link #flush} began: a comparison put off now would never run */
    boolean isStopping() {
        return stopping;
    }

    /** At stop: the scheduler ends, and the sessions changed lately are compared now, before the last backups. */
    void flush() {
        stopping = true;
        scheduler.shutdownNow(); // its queued tasks cancel themselves if run now
        for (Runnable compare : pending.values()) {
            try {
                compare.run();
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                // As a scheduled one: one session's failure must not keep the others' from their last backup.
                LOG.error("backup of a session at stop failed; it is not stored", e);
            }
        }
        pending.clear();
    }
}

package io.msm.core;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets a log line of each kind through at most once a minute: what anyone can cause by sending a
 * request must not fill the log. The counters count every occurrence.
 */
public final class OncePerMinute {
    private static final long MINUTE_MILLIS = 60_000;
    private static final long STEP_BACK_MILLIS = 1_000;

    private final Clock clock;
    private final ConcurrentHashMap<String, Long> lastLogged = new ConcurrentHashMap<>();

    public OncePerMinute(Clock clock) {
        this.clock = clock;
    }

    /** @return true when a line of this kind may be logged now */
    public boolean allow(String kind) {
        long now = clock.millis();
        Long before = lastLogged.get(kind);
        // A clock stepped back must not silence the line for as long as the step. A second's margin:
        // a thread that read the clock a moment before another's line was let through is no step.
        if (before != null && now - before < MINUTE_MILLIS && now - before > -STEP_BACK_MILLIS) {
            return false;
        }
        return before == null ? lastLogged.putIfAbsent(kind, now) == null : lastLogged.replace(kind, before, now);
    }
}

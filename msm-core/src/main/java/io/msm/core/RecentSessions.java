package io.msm.core;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Non-sticky sessions this Tomcat served in the last minute: no Tomcat holds them, so this is the gauge. */
final class RecentSessions {
    private static final long WINDOW_MILLIS = 60_000;
    private static final int PRUNE_EVERY = 1024;

    private final Clock clock;
    private final ConcurrentHashMap<SessionId, Long> lastSeen = new ConcurrentHashMap<>();
    private final AtomicInteger sincePrune = new AtomicInteger();

    RecentSessions(Clock clock) {
        this.clock = clock;
    }

    void seen(SessionId id) {
        lastSeen.put(id, clock.millis());
        if (sincePrune.incrementAndGet() >= PRUNE_EVERY) {
            sincePrune.set(0);
            prune();
        }
    }

    int count() {
        prune();
        return lastSeen.size();
    }

    private void prune() {
        long oldest = clock.millis() - WINDOW_MILLIS;
        lastSeen.values().removeIf(t -> t < oldest);
    }
}

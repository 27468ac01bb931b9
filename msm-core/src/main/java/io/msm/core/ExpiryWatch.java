package io.msm.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The non-sticky sessions this Tomcat served, and when each would expire if nobody used it again. */
final class ExpiryWatch {
    /**
     * A session without a timeout is looked at again this long after it was noted: the expiry check
     * then finds it gone (a logout on another Tomcat) and forgets it, or notes it again. Watched for
     * ever, every such session a Tomcat once served would stay in this map until the webapp stops.
     */
    static final long NEVER_EXPIRING_RECHECK_MILLIS = 3_600_000;

    private final ConcurrentHashMap<SessionId, Long> expiresAt = new ConcurrentHashMap<>();
    private final Expiry clock;

    ExpiryWatch(Expiry clock) {
        this.clock = clock;
    }

    /** @param when as {@link ValidityRecord#expiresAt}: {@code Long.MAX_VALUE} for a session without a timeout */
    void note(SessionId id, long when) {
        expiresAt.put(id, when == Long.MAX_VALUE ? clock.now() + NEVER_EXPIRING_RECHECK_MILLIS : when);
    }

    /** @return when the session expires if unused, as this Tomcat last learned it; null when not watched */
    Long expiresAt(SessionId id) {
        return expiresAt.get(id);
    }

    /** @return true when the session was watched, and is no longer: true for one caller only */
    boolean forgetIfNoted(SessionId id) {
        return expiresAt.remove(id) != null;
    }

    void forget(SessionId id) {
        expiresAt.remove(id);
    }

    List<SessionId> due(long now) {
        List<SessionId> due = new ArrayList<>();
        for (Map.Entry<SessionId, Long> e : expiresAt.entrySet()) {
            if (e.getValue() < now) {
                due.add(e.getKey());
            }
        }
        return due;
    }

    int size() {
        return expiresAt.size();
    }

}

package io.msm.core;

/**
 * A Tomcat-free picture of one session: what the adapter hands the engine after a request, and
 * what the engine hands back when it loads a session from memcached.
 */
public final class SessionSnapshot {
    private final SessionId id;
    private final long creationTime;
    private final long lastAccessedTime;
    private final int maxInactiveInterval;
    private final String authType;
    private final SessionContent content;

    public SessionSnapshot(SessionId id, long creationTime, long lastAccessedTime, int maxInactiveInterval,
            String authType, SessionContent content) {
        this.id = id;
        this.creationTime = creationTime;
        this.lastAccessedTime = lastAccessedTime;
        this.maxInactiveInterval = maxInactiveInterval;
        this.authType = authType;
        this.content = content;
    }

    public SessionId id() {
        return id;
    }

    public long creationTime() {
        return creationTime;
    }

    public long lastAccessedTime() {
        return lastAccessedTime;
    }

    /** @return seconds; zero or less means the session never expires */
    /**
     * @return true when the last access is within the non-sticky record's grace of the timeout's end,
     *     or past it: how far a recorded last access may lag ({@link ValidityRecord#graceMillis})
     */
    public boolean lastAccessNearlyExpired(long now) {
        return maxInactiveInterval > 0 && now - lastAccessedTime
                >= maxInactiveInterval * 1000L - ValidityRecord.graceMillis(maxInactiveInterval);
    }

    public int maxInactiveInterval() {
        return maxInactiveInterval;
    }

    public String authType() {
        return authType;
    }

    public SessionContent content() {
        return content;
    }
}

package io.msm.core;

/**
 * Sticky mode: a session this Tomcat holds in memory, as the engine sees it when it backs the
 * session up after a request, or later when a deferred comparison is due.
 */
public interface HeldSession {
    /** @return the session's id as the engine gave it */
    SessionId sessionId();

    SessionState state();

    /** A picture of the session now; taken only once no other backup of it is being prepared. */
    SessionSnapshot snapshot();

    /** @return false once the session was invalidated or expired */
    boolean isValid();

    /** @return true while a request holds the session */
    boolean isInUse();
}

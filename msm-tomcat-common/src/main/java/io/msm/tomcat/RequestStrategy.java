package io.msm.tomcat;

import java.io.IOException;

import javax.servlet.ServletException;

import org.apache.catalina.Session;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;

/**
 * How the manager serves sessions in its mode: sticky ({@link StickyRequests}) or non-sticky
 * ({@link NonStickyRequests}). Chosen once when the manager starts; the manager and its valves
 * delegate to it and never ask which mode they are in.
 */
interface RequestStrategy {

    /** Runs one request through the rest of the pipeline, with what the mode does before and after. */
    void invoke(Request request, Response response, Valve next) throws IOException, ServletException;

    /**
     * A request that matched {@code requestUriIgnorePattern} failed, and Tomcat renders its error page
     * next, after msm's valve and before it says the request is destroyed ({@link RequestEnds}): the
     * page sees the user's session as any page does. (A request msm handles sees to its own.)
     */
    void errorPageOfIgnored(Request request);

    /** @param random the random part of the id, from the container's secure generator */
    String newSessionId(String random);

    /** @return the session with this id for the current request, from memory or memcached; null if none */
    Session find(String id) throws IOException;

    /** A session the webapp just created. */
    void created(MemcachedSession session);

    /** A session that ended: invalidated or expired. */
    void ended(MemcachedSession session);

    /**
     * A session idle past its timeout here, about to end with its listeners: true when it lives on
     * elsewhere instead (sticky: another Tomcat took it over), and has left this Tomcat's memory quietly.
     */
    default boolean leftBeforeExpiry(MemcachedSession session) {
        return false;
    }

    /** A session about to be renamed (a login, msm's move) to {@code newId}; it still bears its old id. */
    default void renaming(MemcachedSession session, String newId) {
    }

    /** Tomcat's authenticator handed the request on ({@link LoginCheckDoneValve}). */
    default void loginCheckDone() {
    }

    /**
     * A change to a session that no request of this Tomcat uses any more (its copy was let go), made by
     * a thread outside any request: a job, an {@code @Async} method, a WebSocket holding the session.
     *
     * @param what the change, for a log line: "attribute 'x'", or the timeout
     */
    default void changedOutsideRequests(MemcachedSession session, String what) {
    }

    /** Tomcat's FORM authenticator took a stored login under way out of the session to replay its request. */
    default void formLoginReplayed(MemcachedSession session) {
    }

    /** The manager's periodic housekeeping; runs on Tomcat's background thread. */
    void background();

    /** Adds, by name, the entries of every collection this mode keeps per session (a soak run watches them). */
    void heldEntries(java.util.Map<String, Integer> held);
}

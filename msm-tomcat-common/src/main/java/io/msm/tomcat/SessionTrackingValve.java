package io.msm.tomcat;

import java.io.IOException;

import javax.servlet.ServletException;

import org.apache.catalina.Session;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.juli.logging.Log;

import io.msm.core.Logs;
import io.msm.core.OncePerMinute;
import io.msm.core.SessionId;

/**
 * Runs first in the webapp's pipeline and hands each request to the manager's mode
 * ({@link RequestStrategy}), which does what it needs before and after the request. Requests
 * matching {@code requestUriIgnorePattern} pass through untouched.
 */
final class SessionTrackingValve extends ValveBase {
    private static final Log LOG = TomcatLogs.get(SessionTrackingValve.class);
    private final RequestGate manager;
    private final OncePerMinute logLimit = new OncePerMinute(java.time.Clock.systemUTC());

    SessionTrackingValve(RequestGate manager) {
        super(true);
        this.manager = manager;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        RequestStrategy requests = manager.requests();
        if (requests == null) {
            getNext().invoke(request, response); // msm is disabled, or stopped
            return;
        }
        if (manager.isIgnored(request)) {
            RequestEnds ends = manager.ends();
            boolean asyncAtStart = request.isAsync(); // a dispatch has no error page of its own here
            Throwable thrown = null;
            manager.ignoreSessionsOnThisThread(true);
            try {
                getNext().invoke(request, response);
            } catch (Throwable t) {
                thrown = t;
                throw t;
            } finally {
                try {
                    warnIfAnotherSession(request); // while the session is still looked for in memory alone
                } catch (RuntimeException e) {
                    // Only a warning: neither the request's own failure nor the thread's flag below may depend on it.
                } finally {
                    manager.ignoreSessionsOnThisThread(false);
                }
                if (ends.errorPageMayFollow(request, response, asyncAtStart, thrown)) {
                    // A missing image's 404 page (a JSP makes a session by default) must see the user's
                    // session: a new one would log the user out.
                    requests.errorPageOfIgnored(request);
                }
            }
            return;
        }
        RequestsInFlight inFlight = manager.inFlight();
        inFlight.enter();
        try {
            requests.invoke(request, response, getNext());
        } finally {
            AsyncEnd.whenDone(request, inFlight::leave); // after the mode's own end: it registered first
        }
    }

    /**
     * An ignored request that brought a session id msm did not load, and made a new session (a filter
     * that checks for an invalid session, or saves a token in one): its cookie replaces the user's,
     * who is logged out. msm cannot undo that here; the operator can, by matching less.
     */
    private void warnIfAnotherSession(Request request) {
        String requested = request.getRequestedSessionId();
        if (requested == null) {
            return;
        }
        Session session = request.getSessionInternal(false);
        if (session != null && !requested.equals(session.getIdInternal()) && logLimit.allow("another session")) {
            LOG.warn("a request matching requestUriIgnorePattern (" + Logs.oneLine(request.getDecodedRequestURI(), 200)
                    + ") brought session " + SessionId.masked(requested) + ", which it does not load, and the webapp"
                    + " made a new session " + SessionId.masked(session.getIdInternal()) + " for it: that session's cookie replaces the user's, who is logged out. Leave the paths a filter"
                    + " creates sessions on (an invalid-session check, a CSRF token saved in the session) out of"
                    + " requestUriIgnorePattern (logged at most once a minute)");
        }
    }
}

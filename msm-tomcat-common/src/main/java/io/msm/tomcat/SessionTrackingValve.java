package io.msm.tomcat;

import java.io.IOException;

import javax.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Runs first in the webapp's pipeline and hands each request to the manager's mode
 * ({@link RequestStrategy}), which does what it needs before and after the request. Requests
 * matching {@code requestUriIgnorePattern} pass through untouched.
 */
final class SessionTrackingValve extends ValveBase {
    private final RequestGate manager;

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
                manager.ignoreSessionsOnThisThread(false);
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
}

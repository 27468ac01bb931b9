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
        RequestEnds ends = manager.ends();
        RequestsInFlight inFlight = manager.inFlight();
        boolean asyncAtStart = request.isAsync(); // a dispatch: never put off (RequestEnds)
        boolean completed = false;
        if (manager.isIgnored(request)) {
            manager.ignoreSessionsOnThisThread(true);
            try {
                getNext().invoke(request, response);
                completed = true;
            } finally {
                manager.ignoreSessionsOnThisThread(false);
                if (ends.isPutOff(request, response, asyncAtStart, completed)) {
                    // A missing image's 404 page (a JSP makes a session by default) must see the user's
                    // session: a new one would log the user out.
                    inFlight.enter();
                    requests.errorPageOfIgnored(request);
                    if (!ends.putOff(request, inFlight::leave)) {
                        inFlight.leave();
                    }
                }
            }
            return;
        }
        inFlight.enter();
        try {
            requests.invoke(request, response, getNext());
            completed = true;
        } finally {
            // After the mode's own end, which was put off or registered first.
            if (!(ends.isPutOff(request, response, asyncAtStart, completed) && ends.putOff(request, inFlight::leave))) {
                AsyncEnd.whenDone(request, inFlight::leave);
            }
        }
    }
}

package io.msm.tomcat;

import java.io.IOException;

import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;
import javax.servlet.ServletException;

import org.apache.catalina.Session;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Runs first in the webapp's pipeline: before the request, moves its session to this Tomcat and to
 * a memcached node that is up; after it, hands the session to the manager for backup. Requests
 * matching {@code requestUriIgnorePattern} pass through untouched.
 */
final class SessionTrackingValve extends ValveBase {
    private final MemcachedSessionManagerBase manager;

    SessionTrackingValve(MemcachedSessionManagerBase manager) {
        super(true);
        this.manager = manager;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (manager.isIgnored(request.getRequestURI())) {
            manager.ignoreSessionsOnThisThread(true);
            try {
                getNext().invoke(request, response);
            } finally {
                manager.ignoreSessionsOnThisThread(false);
            }
            return;
        }
        NonStickyRequests nonSticky = manager.nonSticky();
        if (nonSticky != null) {
            invokeNonSticky(nonSticky, request, response);
            return;
        }
        String requestedId = request.getRequestedSessionId();
        if (requestedId != null) {
            manager.moveIfNeeded(request, requestedId);
        }
        try {
            getNext().invoke(request, response);
        } finally {
            if (request.isAsync()) {
                request.getAsyncContext().addListener(new EndWhenDone(() -> backup(request)));
            } else {
                backup(request);
            }
            manager.requestDone();
        }
    }

    private void invokeNonSticky(NonStickyRequests nonSticky, Request request, Response response)
            throws IOException, ServletException {
        String query = request.getQueryString();
        NonStickyRequests.Scope scope = nonSticky.begin(query == null ? request.getRequestURI()
                : request.getRequestURI() + "?" + query, request);
        try {
            getNext().invoke(request, response);
        } finally {
            nonSticky.detach();
            if (request.isAsync()) {
                request.getAsyncContext().addListener(new EndWhenDone(() -> nonSticky.end(scope)));
            } else {
                nonSticky.end(scope);
            }
            manager.requestDone();
        }
    }

    private void backup(Request request) {
        Session session = request.getSessionInternal(false);
        if (session != null) {
            manager.backup(session);
        }
    }

    /** An async request's session is handled once the response is complete. */
    private static final class EndWhenDone implements AsyncListener {
        private final Runnable end;

        EndWhenDone(Runnable end) {
            this.end = end;
        }

        @Override
        public void onComplete(AsyncEvent event) {
            end.run();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
        }

        @Override
        public void onError(AsyncEvent event) {
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            event.getAsyncContext().addListener(this); // a restarted async cycle still ends here
        }
    }
}

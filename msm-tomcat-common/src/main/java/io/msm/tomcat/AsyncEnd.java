package io.msm.tomcat;

import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;

import org.apache.catalina.connector.Request;

/** Runs a request's end of session handling once its response is complete, also for an async request. */
final class AsyncEnd implements AsyncListener {
    private final Runnable end;

    private AsyncEnd(Runnable end) {
        this.end = end;
    }

    /** Runs {@code end} now, or when the request's async cycle completes. */
    static void whenDone(Request request, Runnable end) {
        // isAsyncStarted, not isAsync: a pass dispatched by AsyncContext.dispatch() is "async" while
        // it runs, yet has no context to listen to; it ends when it returns, like any request.
        if (request.isAsyncStarted()) {
            try {
                request.getAsyncContext().addListener(new AsyncEnd(end));
                return;
            } catch (IllegalStateException e) {
                // completed meanwhile, on another thread: its listeners have run, so end now
            }
        }
        end.run();
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

package io.msm.tomcat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import javax.servlet.ServletRequestEvent;
import javax.servlet.ServletRequestListener;

import org.apache.catalina.Context;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.juli.logging.Log;

import io.msm.core.OncePerMinute;

/**
 * What runs after a failed request's error page. Tomcat renders an {@code <error-page>} after the
 * webapp's pipeline, msm's valve included, sends its answer, and then tells the webapp's request
 * listeners that the request is destroyed, last listener first. A request that used a session keeps
 * it (and its lock) for its error page until then, its changes stored before the answer; for one
 * that used none, the error page's first lookup opens a small request of its own ({@link ErrorPage}).
 * Either way the end is put off until the request is destroyed. This listener is the webapp's last,
 * so it hears first, and a listener of the webapp that throws does not keep it from hearing.
 * Put-off ends are kept by the request object Tomcat names to its listeners, so that an end on
 * another thread (an async error page) finds them.
 *
 * <p>A request that was async when it reached the valve (a dispatch) has no error page of its own
 * here: Tomcat ends it by its async cycle. For a request whose {@code requestDestroyed} never comes
 * (Tomcat skips it for a webapp that is stopping, or after an {@link OutOfMemoryError}), a stopping
 * manager runs what is left, and the background run ends what waited past {@link #ABANDONED_MILLIS}.
 */
final class RequestEnds implements ServletRequestListener {
    private static final Log LOG = TomcatLogs.get(RequestEnds.class);
    /** Far longer than any error page renders; what waits longer lost its requestDestroyed. */
    static final long ABANDONED_MILLIS = TimeUnit.MINUTES.toMillis(5);

    /** The failed request whose error page a thread renders next. */
    static final class ErrorPage {
        final Request request;
        /** Tomcat's authenticator was told the failed request had no session (NonStickyRequests). */
        final boolean loginLookupSkipped;
        /** Set as the request's note too: Tomcat clears notes when it recycles the request for another. */
        final Object token = new Object();

        ErrorPage(Request request, boolean loginLookupSkipped) {
            this.request = request;
            this.loginLookupSkipped = loginLookupSkipped;
        }
    }

    private static final String NOTE = "io.msm.errorPage";

    /**
     * One request's put-off ends, run once, in the order they were put off, by whoever comes first;
     * counted as a request in flight until then, so that a stop waits for it.
     */
    private final class Ending {
        final long since = System.nanoTime();

        Ending() {
            inFlight.enter();
        }

        private List<Runnable> ends = new ArrayList<>(2);

        /** @return false when the ends ran already (a stop): the caller runs its own */
        synchronized boolean add(Runnable end) {
            if (ends == null) {
                return false;
            }
            ends.add(end);
            return true;
        }

        void run() {
            List<Runnable> toRun;
            synchronized (this) {
                toRun = ends;
                ends = null;
            }
            if (toRun == null) {
                return;
            }
            try {
                for (Runnable end : toRun) {
                    try {
                        end.run();
                    } catch (RuntimeException | LinkageError | StackOverflowError e) {
                        // Must not reach Tomcat, which would then tell no further listener.
                        LOG.error("the end of a request's session handling failed", e);
                    }
                }
            } finally {
                inFlight.leave();
            }
        }
    }

    private final Map<Object, Ending> waiting = new ConcurrentHashMap<>();
    /** The failed request whose error page this thread renders next: until its first lookup, or its destruction. */
    private final ThreadLocal<ErrorPage> errorPageOf = new ThreadLocal<>();
    private final RequestsInFlight inFlight;
    private final OncePerMinute logLimit = new OncePerMinute(java.time.Clock.systemUTC());
    /** True while this listener is the webapp's and the manager is not stopping; written under {@code this}. */
    private volatile boolean listening;

    RequestEnds(RequestsInFlight inFlight) {
        this.inFlight = inFlight;
    }

    /**
     * Makes this listener the webapp's last. Tomcat (7 to 11) starts the webapp's own listeners before
     * its manager, and one that did so after would put them ahead of those already listed.
     */
    void listenTo(Context context) {
        List<Object> ordered = others(context);
        ordered.add(this);
        context.setApplicationEventListeners(ordered.toArray());
        synchronized (this) {
            listening = true;
        }
    }

    /**
     * At the start of the manager's stop: from now on Tomcat may skip a request's destruction, so
     * nothing new is put off. Under the lock {@link #putOff} takes: an end put off before this is
     * counted in flight already, and the stop waits for it.
     */
    synchronized void stopPuttingOff() {
        listening = false;
    }

    /** At the end of the manager's stop: ends what is still put off; a later start lists it again. */
    void stopListening(Context context) {
        stopPuttingOff();
        runAll();
        context.setApplicationEventListeners(others(context).toArray());
    }

    private List<Object> others(Context context) {
        List<Object> others = new ArrayList<>();
        Object[] listeners = context.getApplicationEventListeners();
        if (listeners != null) {
            for (Object l : listeners) {
                if (l != this) {
                    others.add(l);
                }
            }
        }
        return others;
    }

    /**
     * @param asyncAtStart whether the request was async when it reached msm's valve (a dispatch)
     * @param thrown what the webapp's pipeline threw, or null
     * @return whether Tomcat renders an error page for the request after msm's valve and then says the
     *     request is destroyed: the response is an error, or the pipeline threw. Not after an error the
     *     JVM cannot go on from (an {@link OutOfMemoryError}): Tomcat throws it on, without either.
     */
    boolean errorPageMayFollow(Request request, Response response, boolean asyncAtStart, Throwable thrown) {
        if (!listening || asyncAtStart || request.isAsyncStarted()) {
            return false;
        }
        if (thrown == null) {
            return response.isError();
        }
        return !(thrown instanceof ThreadDeath)
                && (!(thrown instanceof VirtualMachineError) || thrown instanceof StackOverflowError);
    }

    /**
     * Puts {@code end} off to the request's destruction, after what was put off for it before.
     *
     * @return false when nothing was put off: the manager is stopping, or a stop ended the request
     *     meanwhile; the caller ends now
     */
    boolean putOff(Request request, Runnable end) {
        Object key = request.getRequest();
        Ending ending;
        synchronized (this) { // failed requests only
            ending = listening ? waiting.computeIfAbsent(key, r -> new Ending()) : waiting.get(key);
        }
        return ending != null && ending.add(end);
    }

    /**
     * After a request for which {@link #errorPageMayFollow} holds, and that keeps no session for its
     * error page: the page's first lookup on this thread opens one ({@link #errorPageOfThisThread}).
     */
    void errorPageFollows(Request request, boolean loginLookupSkipped) {
        ErrorPage page = new ErrorPage(request, loginLookupSkipped);
        request.setNote(NOTE, page.token);
        errorPageOf.set(page);
    }

    /**
     * @return the failed request whose error page runs on this thread now, once: its next lookups
     *     are the page's own; null when none runs. A marker whose destruction was missed is refused:
     *     its request was recycled since (Tomcat clears its notes), or it went async and another
     *     request now runs on this thread.
     */
    ErrorPage errorPageOfThisThread() {
        ErrorPage page = errorPageOf.get();
        if (page == null) {
            return null;
        }
        errorPageOf.remove();
        return page.request.getNote(NOTE) == page.token && !page.request.isAsync() ? page : null;
    }

    @Override
    public void requestInitialized(ServletRequestEvent event) {
        if (!waiting.isEmpty()) {
            // Where Tomcat reuses its request objects (discardFacades="false", the default before 10.1), what
            // waits under this one is a request's whose end never came; elsewhere the background run ends it.
            Ending stale = waiting.remove(event.getServletRequest());
            if (stale != null) {
                stale.run();
            }
        }
    }

    @Override
    public void requestDestroyed(ServletRequestEvent event) {
        if (errorPageOf.get() != null) {
            errorPageOf.remove(); // a page that never looked the session up; or another request's, stale
        }
        if (waiting.isEmpty()) {
            return;
        }
        Ending ending = waiting.remove(event.getServletRequest());
        if (ending != null) {
            ending.run();
        }
    }

    /** At stop, on the stopping thread: requests past the webapp whose destruction Tomcat skips. */
    void runAll() {
        for (Map.Entry<Object, Ending> e : waiting.entrySet()) {
            if (waiting.remove(e.getKey(), e.getValue())) {
                e.getValue().run();
            }
        }
    }

    /** On Tomcat's background thread: ends what waited for its request's destruction far too long. */
    void endAbandoned() {
        long now = System.nanoTime();
        for (Map.Entry<Object, Ending> e : waiting.entrySet()) {
            if (now - e.getValue().since > TimeUnit.MILLISECONDS.toNanos(ABANDONED_MILLIS)
                    && waiting.remove(e.getKey(), e.getValue())) {
                if (logLimit.allow("abandoned")) {
                    LOG.warn("a request's session handling did not end " + ABANDONED_MILLIS / 1000 + " s after its"
                            + " answer failed (Tomcat did not say the request was destroyed); it ends now; this line"
                            + " repeats at most once a minute");
                }
                e.getValue().run();
            }
        }
    }
}

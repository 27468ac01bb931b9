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
 * Where msm's handling of a failed request ends: after its error page. Tomcat renders an
 * {@code <error-page>} after the webapp's pipeline, msm's valve included, and then tells the
 * webapp's request listeners that the request is destroyed, last listener first. This listener is
 * the webapp's last, so it hears first, and no listener of the webapp that throws keeps it from
 * hearing. The ends of such a request (the mode's, then the count of requests in flight) wait
 * until then, kept by the request object Tomcat names to its listeners, so that an end on another
 * thread (an async error page) finds them.
 *
 * <p>A request that was async when it reached the valve (a dispatch) is never put off: Tomcat ends
 * it by its async cycle. For a request whose {@code requestDestroyed} never comes (Tomcat skips it
 * for a webapp that is stopping), a stopping manager runs what is left, and the background run ends
 * what waited past {@link #ABANDONED_MILLIS}.
 */
final class RequestEnds implements ServletRequestListener {
    private static final Log LOG = TomcatLogs.get(RequestEnds.class);
    /** Far longer than any error page renders; what waits longer lost its requestDestroyed. */
    static final long ABANDONED_MILLIS = TimeUnit.MINUTES.toMillis(5);

    /** One request's put-off ends, run once, in the order they were put off, by whoever comes first. */
    private static final class Ending {
        final long since = System.nanoTime();
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
            for (Runnable end : toRun) {
                try {
                    end.run();
                } catch (RuntimeException | LinkageError | StackOverflowError e) {
                    // One end's failure must not keep the next (the count of requests in flight) from
                    // running, nor reach Tomcat, which would then tell no further listener.
                    LOG.error("the end of a request's session handling failed", e);
                }
            }
        }
    }

    private final Map<Object, Ending> waiting = new ConcurrentHashMap<>();
    /** Set while {@link #requestDestroyed} runs ends: the request is not recycled yet. */
    private final ThreadLocal<Boolean> destroying = new ThreadLocal<>();
    private final OncePerMinute logLimit = new OncePerMinute(java.time.Clock.systemUTC());
    /** True while this listener is the webapp's and the manager is not stopping. */
    private volatile boolean listening;

    /** Makes this listener the webapp's last; Tomcat started the webapp's own listeners before. */
    void listenTo(Context context) {
        Object[] listeners = context.getApplicationEventListeners();
        if (listeners == null || listeners.length == 0 || listeners[listeners.length - 1] != this) {
            List<Object> ordered = others(context);
            ordered.add(this);
            context.setApplicationEventListeners(ordered.toArray());
        }
        listening = true;
    }

    /** At the start of the manager's stop: from now on Tomcat may skip a request's destruction. */
    void stopPuttingOff() {
        listening = false;
    }

    /** At the end of the manager's stop: a later start of the webapp lists it again. */
    void stopListening(Context context) {
        listening = false;
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
     * @param completed false when the webapp's pipeline threw
     * @return whether the request's ends wait for its destruction: an error page may follow, as
     *     the response is an error, or the pipeline threw (Tomcat renders the page for the exception)
     */
    boolean isPutOff(Request request, Response response, boolean asyncAtStart, boolean completed) {
        return listening && !asyncAtStart && !request.isAsyncStarted() && (!completed || response.isError());
    }

    /**
     * Puts {@code end} off to the request's destruction, after what was put off for it before.
     *
     * @return false when a stop ended the request meanwhile: the caller runs {@code end} now
     */
    boolean putOff(Request request, Runnable end) {
        return waiting.computeIfAbsent(request.getRequest(), r -> new Ending()).add(end);
    }

    /** @return true on the thread of {@link #requestDestroyed}: the request can still be asked */
    boolean isRequestAlive() {
        return destroying.get() != null;
    }

    @Override
    public void requestInitialized(ServletRequestEvent event) {
    }

    @Override
    public void requestDestroyed(ServletRequestEvent event) {
        Ending ending = waiting.remove(event.getServletRequest());
        if (ending != null) {
            destroying.set(Boolean.TRUE);
            try {
                ending.run();
            } finally {
                destroying.remove();
            }
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

package io.msm.tomcat.it;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import javax.servlet.http.HttpSessionAttributeListener;
import javax.servlet.http.HttpSessionBindingEvent;
import javax.servlet.http.HttpSessionEvent;
import javax.servlet.http.HttpSessionListener;

/**
 * Counts sessionDestroyed per session id, across every Tomcat of the test JVM; sets a timeout at
 * sessionCreated on demand. An attribute named {@value #HELD_IN_LISTENER} holds its request in the
 * attribute listener, after the value is in the session, at the gate of {@link SessionServlet} its
 * value names.
 */
public class SessionEvents implements HttpSessionListener, HttpSessionAttributeListener {
    static final String HELD_IN_LISTENER = "heldInListener";
    static final Map<String, AtomicInteger> DESTROYED = new ConcurrentHashMap<>();
    /** When set, sessionCreated sets this timeout, as XNAT's listener sets its site's. */
    static volatile Integer timeoutAtCreation;

    @Override
    public void sessionCreated(HttpSessionEvent se) {
        Integer timeout = timeoutAtCreation;
        if (timeout != null) {
            se.getSession().setMaxInactiveInterval(timeout);
        }
    }

    @Override
    public void sessionDestroyed(HttpSessionEvent se) {
        DESTROYED.computeIfAbsent(se.getSession().getId(), k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public void attributeAdded(HttpSessionBindingEvent event) {
        if (HELD_IN_LISTENER.equals(event.getName())) {
            SessionServlet.pass(String.valueOf(event.getValue()));
        }
    }

    @Override
    public void attributeReplaced(HttpSessionBindingEvent event) {
        attributeAdded(event);
    }

    @Override
    public void attributeRemoved(HttpSessionBindingEvent event) {
    }

    static int destroyed(String id) {
        AtomicInteger n = DESTROYED.get(id);
        return n == null ? 0 : n.get();
    }
}

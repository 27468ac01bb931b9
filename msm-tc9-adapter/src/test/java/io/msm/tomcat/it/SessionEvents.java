package io.msm.tomcat.it;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import javax.servlet.http.HttpSessionEvent;
import javax.servlet.http.HttpSessionListener;

/** Counts sessionDestroyed per session id, across every Tomcat of the test JVM; sets a timeout at sessionCreated on demand. */
public class SessionEvents implements HttpSessionListener {
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

    static int destroyed(String id) {
        AtomicInteger n = DESTROYED.get(id);
        return n == null ? 0 : n.get();
    }
}

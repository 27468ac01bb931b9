package io.msm.tomcat.it;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import javax.servlet.http.HttpSessionEvent;
import javax.servlet.http.HttpSessionListener;

/** Counts sessionDestroyed per session id, across every Tomcat of the test JVM. */
public class SessionEvents implements HttpSessionListener {
    static final Map<String, AtomicInteger> DESTROYED = new ConcurrentHashMap<>();

    @Override
    public void sessionDestroyed(HttpSessionEvent se) {
        DESTROYED.computeIfAbsent(se.getSession().getId(), k -> new AtomicInteger()).incrementAndGet();
    }

    static int destroyed(String id) {
        AtomicInteger n = DESTROYED.get(id);
        return n == null ? 0 : n.get();
    }
}

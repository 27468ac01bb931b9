package io.msm.tomcat.it;

import java.io.Serializable;
import java.util.concurrent.atomic.AtomicInteger;

import javax.servlet.http.HttpSessionActivationListener;
import javax.servlet.http.HttpSessionEvent;

/** A session attribute that counts how often a Tomcat told it the session was activated. */
public class ActivationProbe implements HttpSessionActivationListener, Serializable {
    private static final long serialVersionUID = 1L;
    static final AtomicInteger ACTIVATIONS = new AtomicInteger();

    @Override
    public void sessionDidActivate(HttpSessionEvent se) {
        ACTIVATIONS.incrementAndGet();
    }

    @Override
    public void sessionWillPassivate(HttpSessionEvent se) {
    }

    @Override
    public String toString() {
        return "probe";
    }
}

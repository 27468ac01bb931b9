package io.msm.tomcat.it;

import java.io.Serializable;

import javax.servlet.http.HttpSessionBindingEvent;
import javax.servlet.http.HttpSessionBindingListener;

/** A webapp's value whose valueUnbound throws, which Tomcat's expire() does not catch. */
public class UnbindFails implements HttpSessionBindingListener, Serializable {
    private static final long serialVersionUID = 1L;
    private final String name;

    public UnbindFails(String name) {
        this.name = name;
    }

    @Override
    public void valueUnbound(HttpSessionBindingEvent event) {
        throw new IllegalStateException("valueUnbound of " + name + " fails, as a webapp's may");
    }

    @Override
    public String toString() {
        return "UnbindFails(" + name + ")";
    }
}

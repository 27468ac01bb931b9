package io.msm.tomcat.it;

import javax.servlet.ServletRequestEvent;
import javax.servlet.ServletRequestListener;

/**
 * A webapp's request listener that fails at the end of requests asking for it ({@code ?listenerFails}):
 * Tomcat then tells no listener after it that the request is destroyed.
 */
public class FailingRequestListener implements ServletRequestListener {
    @Override
    public void requestDestroyed(ServletRequestEvent event) {
        if (event.getServletRequest().getParameter("listenerFails") != null) {
            throw new IllegalStateException("a webapp's request listener failing, as the test asked");
        }
    }
}

package io.msm.tomcat;

import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Valve;
import org.apache.catalina.authenticator.SingleSignOn;

/**
 * Keeps the webapp's sessions in memcached (Tomcat 8.5, 9, and through the jakarta build 10.1 and 11).
 * Declared in the context file:
 *
 * <pre>
 * &lt;Manager className="io.msm.tomcat.MemcachedSessionManager" memcachedNodes="n1:mc1:11211,n2:mc2:11211"/&gt;
 * </pre>
 */
public class MemcachedSessionManager extends MemcachedSessionManagerBase {
    @Override
    public void setContext(Context context) {
        super.setContext(context);
        if (context != null) {
            bind(context);
        }
    }

    @Override
    protected Context context() {
        return getContext();
    }

    private volatile SavedRequests savedRequests;

    /** Made at the first login under way, once the webapp's host and its valves are known. */
    @Override
    SavedRequests savedRequests() {
        SavedRequests r = savedRequests;
        if (r == null) {
            r = new TomcatSavedRequests(singleSignOnCookie());
            savedRequests = r;
        }
        return r;
    }

    /** @return the cookie name of a {@code SingleSignOn} valve of the webapp's host or engine, or Tomcat's default */
    private String singleSignOnCookie() {
        for (Container c = getContext(); c != null; c = c.getParent()) {
            for (Valve v : c.getPipeline().getValves()) {
                if (v instanceof SingleSignOn) {
                    return ((SingleSignOn) v).getCookieName();
                }
            }
        }
        return "JSESSIONIDSSO";
    }

    /** Without the password Tomcat 8.5 and 9 would serialize with it ({@link PrincipalWithoutPassword}). */
    @Override
    public java.security.Principal principalToStore(java.security.Principal principal) {
        return PrincipalWithoutPassword.of(principal);
    }
}

package io.msm.tomcat;

import org.apache.catalina.Context;

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

    /** Without the password Tomcat 8.5 and 9 would serialize with it ({@link PrincipalWithoutPassword}). */
    @Override
    public java.security.Principal principalToStore(java.security.Principal principal) {
        return PrincipalWithoutPassword.of(principal);
    }
}

package io.msm.tomcat;

import java.security.Principal;

import org.apache.catalina.Container;
import org.apache.catalina.Context;

/**
 * Keeps the webapp's sessions in memcached (Tomcat 7). Declared in the context file:
 *
 * <pre>
 * &lt;Manager className="io.msm.tomcat.MemcachedSessionManager" memcachedNodes="n1:mc1:11211,n2:mc2:11211"/&gt;
 * </pre>
 *
 * What differs on Tomcat 7: it hands a manager its container, not its context, and its principal
 * is not serializable.
 */
public class MemcachedSessionManager extends MemcachedSessionManagerBase {

    @Override
    public void setContainer(Container container) {
        super.setContainer(container);
        if (container instanceof Context) {
            bind((Context) container);
        }
    }

    @Override
    protected boolean forTomcat7() {
        return true;
    }

    @Override
    protected Context context() {
        return (Context) getContainer();
    }

    /** 2.3.2 wrote Tomcat 7's principal with Tomcat's SerializablePrincipal, msm with its own. */
    @Override
    protected boolean sharesPrincipalWithMsm2() {
        return false;
    }

    @Override
    public Principal principalToStore(Principal principal) {
        return StoredPrincipal.of(principal);
    }

    @Override
    public Principal principalLoaded(Principal stored) {
        return stored instanceof StoredPrincipal ? ((StoredPrincipal) stored).toGenericPrincipal() : stored;
    }
}

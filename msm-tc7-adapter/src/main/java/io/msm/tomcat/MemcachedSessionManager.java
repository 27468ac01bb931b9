package io.msm.tomcat;

import java.security.Principal;

import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.session.ManagerBase;
import org.apache.catalina.util.ServerInfo;

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

    /**
     * Tomcat 7 before 7.0.68 lacks the session attribute filters msm calls: without this check the
     * webapp would fail on a NoSuchMethodError that names no cause an operator can act on.
     */
    @Override
    protected void startInternal() throws LifecycleException {
        try {
            ManagerBase.class.getMethod("getSessionAttributeNameFilter");
            ManagerBase.class.getMethod("willAttributeDistribute", String.class, Object.class);
        } catch (NoSuchMethodException e) {
            throw new LifecycleException("msm needs Tomcat 7.0.68 or later, whose session manager has the session"
                    + " attribute filters msm uses; this is " + ServerInfo.getServerInfo() + ": update Tomcat");
        }
        super.startInternal();
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

package io.msm.tomcat;

import org.apache.catalina.Container;
import org.apache.catalina.Context;

/**
 * Keeps the webapp's sessions in memcached (Tomcat 7). Declared in the context file:
 *
 * <pre>
 * &lt;Manager className="io.msm.tomcat.MemcachedSessionManager" memcachedNodes="n1:mc1:11211,n2:mc2:11211"/&gt;
 * </pre>
 *
 * Tomcat 7 hands a manager its container, not its context; that is all this class is about.
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
    protected Context context() {
        return (Context) getContainer();
    }
}

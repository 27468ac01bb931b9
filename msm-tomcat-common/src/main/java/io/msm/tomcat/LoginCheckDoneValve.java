package io.msm.tomcat;

import java.io.IOException;

import javax.servlet.ServletException;

import org.apache.catalina.Authenticator;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;
import org.apache.catalina.authenticator.NonLoginAuthenticator;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Non-sticky mode, webapps without container login: sits right behind Tomcat's authenticator and
 * tells the request's scope that the authenticator is done. Before that, the only session lookup
 * is the authenticator's check for a login cached in the session, which such a webapp does not
 * keep there; answering it from memory spares a memcached load (and a lock) for every request that
 * carries a cookie but never uses its session.
 */
final class LoginCheckDoneValve extends ValveBase {
    private final RequestGate manager;

    private LoginCheckDoneValve(RequestGate manager) {
        super(true);
        this.manager = manager;
    }

    /**
     * Links a marker in behind the webapp's authenticator when that is Tomcat's stand-in for
     * webapps without a login method.
     *
     * @return true when the marker is in place: lookups before it may be answered from memory
     */
    static boolean install(Pipeline pipeline, RequestGate manager) {
        for (Valve v : pipeline.getValves()) {
            if (v instanceof LoginCheckDoneValve) {
                return true; // the manager restarted with its webapp
            }
        }
        for (Valve v : pipeline.getValves()) {
            if (v instanceof NonLoginAuthenticator) {
                v.setNext(new LoginCheckDoneValve(manager).linkedTo(v.getNext()));
                return true;
            }
            if (v instanceof Authenticator) {
                return false; // container login: its cached login lives in the session
            }
        }
        return false;
    }

    private Valve linkedTo(Valve next) {
        setNext(next);
        return this;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        RequestStrategy requests = manager.requests();
        if (requests != null) {
            requests.loginCheckDone();
        }
        getNext().invoke(request, response);
    }
}

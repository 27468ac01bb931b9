package io.msm.tomcat;

import java.io.IOException;
import java.time.Clock;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Valve;
import org.apache.catalina.authenticator.SingleSignOn;
import org.apache.catalina.util.SessionConfig;
import org.apache.juli.logging.Log;

import io.msm.core.OncePerMinute;
import io.msm.core.SessionId;

/**
 * A FORM login under way (the request Tomcat's authenticator saved before showing the login page)
 * as it is stored with its session, so that the login ends on whichever Tomcat its form reaches.
 * Without the credentials of other logins: the session cookies of the Host's webapps and the single
 * sign-on cookie are left out of the saved request ({@link TomcatSavedRequests}).
 */
final class FormLogins {
    private static final Log LOG = TomcatLogs.get(FormLogins.class);

    private final Supplier<Context> context;
    private final Supplier<String> contextName;
    private final OncePerMinute logLimit = new OncePerMinute(Clock.systemUTC());
    /** Not beside 2.3.2's Tomcats: they would see it as an attribute and replay it at every later visit. */
    private volatile boolean stored;
    private volatile SavedRequests savedRequests;

    /** @param context the webapp, known once the manager is bound to it */
    FormLogins(Supplier<Context> context, Supplier<String> contextName) {
        this.context = context;
        this.contextName = contextName;
    }

    /** Set at each start: false with {@code compatibility="msm2"}. */
    void storeWithSessions(boolean stored) {
        this.stored = stored;
    }

    /** How Tomcat's FORM authenticator saves a request; made at the first login under way, once the Host is known. */
    SavedRequests savedRequests() {
        SavedRequests r = savedRequests;
        if (r == null) {
            r = new TomcatSavedRequests(loginCookies());
            savedRequests = r;
        }
        return r;
    }

    /**
     * @return a FORM login under way as stored with the session; null when none, or when it is not
     *     stored here (too large, another authenticator's objects, or 2.3.2's Tomcats beside this one)
     */
    byte[] toStore(Object savedRequest, Object expectedId) {
        if (!stored) {
            return null;
        }
        try {
            return FormLoginNotes.encode(savedRequest, expectedId, savedRequests());
        } catch (IOException | RuntimeException e) {
            // Left in memory, as Tomcat keeps them.
            if (logLimit.allow("form login stored")) {
                LOG.warn("msm for " + contextName.get() + ": a FORM login under way is not stored with its session ("
                        + e.getMessage() + "): in sticky mode it holds on this Tomcat only, in non-sticky mode its"
                        + " login answers 408 and the user starts again; this line repeats at most once a minute");
            }
            return null;
        }
    }

    /**
     * Puts a stored FORM login under way back into the session's notes.
     *
     * @return false when the bytes do not decode: the login is dropped, and its user answered as
     *     Tomcat answers a login page that outlived its session
     */
    boolean loaded(byte[] bytes, Map<String, Object> notes, String sessionId) {
        try {
            FormLoginNotes.decode(bytes, savedRequests(), notes);
            return true;
        } catch (IOException | RuntimeException e) { // decode puts nothing into the notes before the end
            if (logLimit.allow("form login loaded")) {
                LOG.warn("msm for " + contextName.get() + ": the FORM login under way in session "
                        + SessionId.masked(sessionId) + " was not restored (" + e.getMessage() + "); its user logs in"
                        + " again; this line repeats at most once a minute");
            }
            return false;
        }
    }

    /**
     * @return the names of the cookies that carry a session id or a login to this webapp's Host: its
     *     webapps' session cookies (a browser sends a webapp at / its cookie with every request) and
     *     the single sign-on cookie
     */
    private Set<String> loginCookies() {
        Set<String> names = new HashSet<>();
        names.add("JSESSIONID");
        names.add(singleSignOnCookie());
        Context webapp = context.get();
        Container host = webapp.getParent();
        Container[] webapps = host == null ? new Container[] {webapp} : host.findChildren();
        for (Container c : webapps) {
            if (c instanceof Context) {
                try {
                    names.add(SessionConfig.getSessionCookieName((Context) c));
                } catch (RuntimeException e) {
                    // A webapp that failed to deploy (Tomcat's FailedContext) knows no cookie name: it has no sessions.
                }
            }
        }
        return names;
    }

    /** @return the cookie name of a {@code SingleSignOn} valve of the webapp's host or engine, or Tomcat's default */
    private String singleSignOnCookie() {
        for (Container c = context.get(); c != null; c = c.getParent()) {
            for (Valve v : c.getPipeline().getValves()) {
                if (v instanceof SingleSignOn) {
                    try {
                        return (String) v.getClass().getMethod("getCookieName").invoke(v); // Tomcat 8.5 and later
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        return tomcat7SingleSignOnCookie();
                    }
                }
            }
        }
        return tomcat7SingleSignOnCookie();
    }

    /** Tomcat 7's name of the cookie: a system property may rename it there (JSESSIONIDSSO by default). */
    private static String tomcat7SingleSignOnCookie() {
        try {
            Object name = org.apache.catalina.authenticator.Constants.class.getField("SINGLE_SIGN_ON_COOKIE").get(null);
            return name instanceof String ? (String) name : "JSESSIONIDSSO";
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "JSESSIONIDSSO";
        }
    }
}

package io.msm.tomcat;

import org.apache.catalina.Authenticator;
import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Host;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Valve;
import org.apache.catalina.authenticator.NonLoginAuthenticator;
import org.apache.catalina.authenticator.SingleSignOn;
import org.apache.juli.logging.Log;

import io.msm.core.SessionId;
import io.msm.core.Settings;
import io.msm.core.StorageKeyPrefix;

/**
 * What the start checks of the Tomcat around the webapp, beside the attributes' text: what would
 * lose every session stops the start with what to change; what an operator must compare across the
 * cluster, or may regret, is a line of the start's log.
 */
final class SetupChecks {
    private static final Log LOG = TomcatLogs.get(SetupChecks.class);

    private final Context context;
    private final String contextName;

    SetupChecks(Context context, String contextName) {
        this.context = context;
        this.contextName = contextName;
    }

    /** The alias of memcached-session-manager 2.3.2's class name works, and says what to write instead. */
    void noMsm2Jars(Class<?> manager) throws LifecycleException {
        if (!manager.getName().startsWith("de.javakaffee.")) {
            return;
        }
        String oldService = "de/javakaffee/web/msm/MemcachedSessionService.class";
        ClassLoader[] loaders = {manager.getClassLoader(), context.getLoader() == null ? null
            : context.getLoader().getClassLoader()};
        for (ClassLoader loader : loaders) {
            if (loader != null && loader.getResource(oldService) != null) {
                throw notStarted("the jars of memcached-session-manager 2.3.2 are still installed ("
                        + loader.getResource(oldService) + "); remove memcached-session-manager-*.jar and its serializer"
                        + " jars from tomcat/lib and WEB-INF/lib, and write"
                        + " className=\"io.msm.tomcat.MemcachedSessionManager\"");
            }
        }
        LOG.warn("msm for " + contextName + ": className=\"" + manager.getName() + "\" is memcached-session-manager"
                + " 2.3.2's name, and msm runs in its place; write className=\"io.msm.tomcat.MemcachedSessionManager\""
                + " (this name may go in a later release)");
    }

    /**
     * Ids this Tomcat would make but refuse at their next request lose every session: say so at start,
     * naming what to change.
     *
     * @param sample an id of the container's generator, without a route
     */
    void idsAccepted(Settings settings, String sample, String jvmRoute) throws LifecycleException {
        if (!settings.enabled()) {
            return;
        }
        if (!SessionId.isHexRandom(sample)) {
            throw notStarted("the session id generator makes ids that are not hexadecimal digits ("
                    + SessionId.masked(sample) + "); msm accepts those of Tomcat's StandardSessionIdGenerator: remove"
                    + " the <SessionIdGenerator> element or its className");
        }
        String problem = settings.sticky() ? SessionId.routeProblem(jvmRoute) : null;
        if (problem != null) {
            throw notStarted("the Engine's jvmRoute \"" + jvmRoute + "\" is " + problem + ", and sticky sessions carry"
                    + " it in their ids; write such a jvmRoute in <Engine jvmRoute=\"...\"> (server.xml)");
        }
    }

    /**
     * Tomcat's SingleSignOn valve ends a single sign-on when it hears the session end, through a listener
     * it puts on the session object of the request that logged in. Non-sticky mode gives each request an
     * object of its own: a logout would leave the single sign-on alive, and its cookie would log the
     * next request in again without a password. A webapp with a login method stops; one without (every
     * webapp has Tomcat's NonLoginAuthenticator then, such as XNAT, whose logins are Spring Security's)
     * signs on only through {@code HttpServletRequest.login()}, and gets a WARN.
     */
    void noSingleSignOnWithoutSticky(Settings settings) throws LifecycleException {
        if (!settings.enabled() || settings.sticky() || !hasValve(context, Authenticator.class)) {
            return;
        }
        for (Container c = context.getParent(); c != null; c = c.getParent()) {
            if (!hasValve(c, SingleSignOn.class)) {
                continue;
            }
            String valve = "sticky=\"false\" with Tomcat's SingleSignOn valve (on " + (c instanceof Host ? "Host '"
                    : "Engine '") + c.getName() + "')";
            String risk = "a logout would not end the single sign-on, whose cookie would log the next request in"
                    + " again without a password";
            if (!hasValve(context, NonLoginAuthenticator.class)) {
                throw notStarted(valve + " and this webapp's container login: " + risk + "; write sticky=\"true\","
                        + " or remove the SingleSignOn valve");
            }
            LOG.warn("msm for " + contextName + ": " + valve + ": if this webapp logs users in with"
                    + " HttpServletRequest.login(), " + risk + "; write sticky=\"true\" if it does");
            return;
        }
    }

    private static boolean hasValve(Container container, Class<?> type) {
        for (Valve valve : container.getPipeline().getValves()) {
            if (type.isInstance(valve)) {
                return true;
            }
        }
        return false;
    }

    /**
     * What {@code compatibility} cannot do on this Tomcat line, or where it keeps an exposure of 2.3.2's.
     *
     * @param sharesPrincipal false on a Tomcat line whose logins 2.3.2 stored in a form msm does not share
     */
    void compatibility(Settings settings, boolean sharesPrincipal) throws LifecycleException {
        if (settings.compatibility() == Settings.Compatibility.NONE) {
            return;
        }
        if (!sharesPrincipal) {
            throw notStarted("compatibility: memcached-session-manager 2.3.2 wrote Tomcat 7's logins in a form msm does"
                    + " not share, so logged-in users would be logged out; on Tomcat 7 switch in one step without"
                    + " compatibility (users log in again)");
        }
        String spec = settings.msm2StorageKeyPrefix();
        if (!spec.contains("context") && !spec.contains("static:")) {
            LOG.warn("msm for " + contextName + ": compatibility reads memcached-session-manager 2.3.2's copies under"
                    + " keys that do not name the webapp (storageKeyPrefix=\"" + spec + "\"): as with 2.3.2, a session"
                    + " id of another webapp on the same memcached nodes reads that webapp's session here. "
                    + (settings.storageKeyPrefix().contains("context") ? "msm's own keys do name it"
                    : "msm's own keys use the same prefix") + "; remove compatibility once 2.3.2's sessions have ended");
        }
    }

    /**
     * The start's lines: what msm runs with, what the operator compares across the cluster, and what
     * was written that has no effect or may be regretted.
     *
     * @param prefix the storage key prefix as built here
     * @param timeout the session timeout in seconds
     * @param timeoutOnManager true when it is msm's {@code maxInactiveInterval}, not the webapp's session-timeout
     */
    void report(Settings settings, String prefix, int timeout, boolean timeoutOnManager) {
        // The timeout is Tomcat's (session-timeout, in minutes) or msm's maxInactiveInterval (in seconds): said
        // here in seconds, so that a unit mixed up shows at start.
        LOG.info("msm for " + contextName + ": " + settings.describe() + ", session timeout " + (timeout <= 0
                ? "none (sessions never expire)" : timeout + " s")
                + (timeoutOnManager ? " (maxInactiveInterval)" : " (the webapp's session-timeout)"));
        if (settings.enabled()) {
            // Built from the Host's name and the context path by default: Tomcats that differ there store
            // under different keys, and a failover finds no session. This line lets an operator compare them.
            LOG.info("msm for " + contextName + ": the storage key prefix built here is '" + prefix
                    + "' (Host '" + context.getParent().getName() + "'); every Tomcat of the cluster must build the"
                    + " same for this webapp");
        }
        if (!settings.withoutEffect().isEmpty()) {
            LOG.warn("msm for " + contextName + ": these attributes have no effect here; remove them: "
                    + String.join("; ", settings.withoutEffect()));
        }
        for (String risk : settings.risks()) {
            LOG.warn("msm for " + contextName + ": " + risk);
        }
        String twin = settings.enabled() ? otherHostWithThisWebapp(settings.storageKeyPrefix()) : null;
        if (twin != null) {
            LOG.warn("msm for " + contextName + ": " + Settings.STORAGE_KEY_PREFIX + "=\"" + settings.storageKeyPrefix()
                    + "\" does not name the Host, and Host '" + twin + "' of this Engine serves a webapp of the same"
                    + " name: where both use these memcached nodes, each reads the other's sessions by their ids,"
                    + " logins included; add host (or host.hash) unless they are meant to share sessions");
        }
        if (settings.enabled() && !settings.sticky() && "/".equals(context.getSessionCookiePath())) {
            // Tomcat gives another webapp's new session the shared cookie's id only when some manager of
            // the Host finds it; outside its own requests a non-sticky one holds no session to find.
            LOG.warn("msm for " + contextName + ": non-sticky with sessionCookiePath=\"/\": where other webapps"
                    + " of this Host share the cookie, a session one of them makes replaces this webapp's id in"
                    + " it and logs its user out here; give this webapp its own cookie path or set"
                    + " sticky=\"true\"");
        }
        if (settings.enabled() && !settings.sticky() && !context.getWebappVersion().isEmpty()
                && StorageKeyPrefix.namesTheVersion(settings.storageKeyPrefix())) {
            // Tomcat keeps a user on an older version only while that version's manager holds her session
            // in memory, which a non-sticky one never does between requests.
            LOG.warn("msm for " + contextName + ": non-sticky under parallel deployment (version '"
                    + context.getWebappVersion() + "'): Tomcat sends every request to the newest version, and with "
                    + Settings.STORAGE_KEY_PREFIX + "=\"" + settings.storageKeyPrefix() + "\" each version reads only"
                    + " its own sessions, so deploying the next version logs every user out; write "
                    + Settings.STORAGE_KEY_PREFIX + "=\"host,static:<a name for this webapp>\" so that its versions"
                    + " share sessions (users then move to the new version with them at their next request)");
        }
    }

    /**
     * @return another Host of this Engine with a webapp of this context's name (its path, and its
     *     version under parallel deployment: what the prefix's context part is built from), when the
     *     prefix cannot tell the two Hosts apart
     */
    private String otherHostWithThisWebapp(String prefixSpec) {
        Container host = context.getParent();
        Container engine = host == null ? null : host.getParent();
        if (engine == null || StorageKeyPrefix.namesTheHost(prefixSpec)) {
            return null;
        }
        for (Container other : engine.findChildren()) {
            if (other != host && other.findChild(context.getName()) != null) {
                return other.getName();
            }
        }
        return null;
    }

    private LifecycleException notStarted(String why) {
        return new LifecycleException("webapp " + contextName + " not started: " + why);
    }
}

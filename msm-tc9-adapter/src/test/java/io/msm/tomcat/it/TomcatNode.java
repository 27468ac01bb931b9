package io.msm.tomcat.it;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.authenticator.BasicAuthenticator;
import org.apache.catalina.authenticator.FormAuthenticator;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.IntrospectionUtils;
import org.apache.tomcat.util.descriptor.web.ErrorPage;
import org.apache.tomcat.util.descriptor.web.LoginConfig;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;

import io.msm.tomcat.MemcachedSessionManager;

/**
 * An embedded Tomcat 9 on a free loopback port with a given jvmRoute, serving {@link SessionServlet}
 * under each webapp, whose manager is configured exactly as Tomcat applies a context file's
 * attributes (through its own IntrospectionUtils). User "alice", password "secret", role "user".
 */
public final class TomcatNode implements AutoCloseable {
    private final String route;
    private final Map<String, Map<String, String>> webapps = new LinkedHashMap<>();
    private boolean backgroundRuns = true;
    private boolean singleSignOn;
    private final Map<String, String> auth = new LinkedHashMap<>();
    private final Map<String, Context> contexts = new LinkedHashMap<>();
    private Tomcat tomcat;
    private File baseDir;
    private int port;
    private String sessionCookiePath;
    private boolean errorPages;
    /** The connector's; null for Tomcat's default (4 KB). */
    private Integer maxSavePostSize;
    /** By webapp path: a directory of classes only that webapp has. */
    private final Map<String, java.net.URL> webappClasses = new LinkedHashMap<>();

    public TomcatNode(String route) {
        this.route = route;
    }

    /**
     * No background runs of the webapps (Tomcat's expiry of sessions, msm's background work): what
     * only a request or a stop does shows.
     */
    public TomcatNode withoutBackgroundRuns() {
        backgroundRuns = false;
        return this;
    }

    /** Tomcat's SingleSignOn valve on the Host, as server.xml's {@code <Valve className="...SingleSignOn"/>}. */
    public TomcatNode withSingleSignOn() {
        singleSignOn = true;
        return this;
    }

    /** @param managerAttributes as written in the {@code <Manager>} element; null for Tomcat's StandardManager */
    public TomcatNode webapp(String path, Map<String, String> managerAttributes) {
        return webapp(path, managerAttributes, null);
    }

    /**
     * @param authMethod FORM or BASIC protects /secure/*; NONE protects it without a login method
     *     (users log in by request.login()); null protects nothing
     */
    public TomcatNode webapp(String path, Map<String, String> managerAttributes, String authMethod) {
        webapps.put(path, managerAttributes);
        auth.put(path, authMethod);
        return this;
    }

    /**
     * The session cookie's path for every webapp; "/" is how webapps of one host share a session id, and
     * then Tomcat reuses a requested id for a new session when any webapp still finds it.
     */
    /** Classes in {@code dir} that this Tomcat's webapp at {@code path} has, and others may lack. */
    public TomcatNode webappClasses(String path, java.nio.file.Path dir) {
        try {
            webappClasses.put(path, dir.toUri().toURL());
        } catch (java.net.MalformedURLException e) {
            throw new AssertionError(e);
        }
        return this;
    }

    public TomcatNode sessionCookiePath(String path) {
        this.sessionCookiePath = path;
        return this;
    }

    /** The largest form body a FORM login keeps through its login page (the connector's maxSavePostSize). */
    public TomcatNode maxSavePostSize(int bytes) {
        this.maxSavePostSize = bytes;
        return this;
    }

    /**
     * Every webapp renders its 404 and 500 answers with {@code <error-page>}s served by
     * {@link SessionServlet}'s /error-page, which uses the session as a webapp's error page may; a
     * {@link FailingRequestListener} fails at the end of requests that ask for it.
     */
    public TomcatNode errorPages() {
        this.errorPages = true;
        return this;
    }

    public TomcatNode start() {
        try {
            baseDir = Files.createTempDirectory("tomcat-" + route).toFile();
            tomcat = new Tomcat();
            tomcat.setBaseDir(baseDir.getAbsolutePath());
            tomcat.setPort(0);
            tomcat.getConnector().setProperty("address", "127.0.0.1");
            if (maxSavePostSize != null) {
                tomcat.getConnector().setMaxSavePostSize(maxSavePostSize);
            }
            tomcat.getEngine().setJvmRoute(route);
            tomcat.getEngine().setBackgroundProcessorDelay(backgroundRuns ? 1 : -1);
            tomcat.getHost().setAutoDeploy(false);
            if (singleSignOn) {
                tomcat.getHost().getPipeline().addValve(new org.apache.catalina.authenticator.SingleSignOn());
            }
            tomcat.addUser("alice", "secret");
            tomcat.addRole("alice", "user");
            for (Map.Entry<String, Map<String, String>> w : webapps.entrySet()) {
                contexts.put(w.getKey(), addWebapp(w.getKey(), w.getValue(), auth.get(w.getKey())));
            }
            tomcat.start();
            port = tomcat.getConnector().getLocalPort();
            return this;
        } catch (IOException | LifecycleException e) {
            throw new AssertionError("embedded Tomcat " + route + " did not start: " + e, e);
        }
    }

    private Context addWebapp(String path, Map<String, String> attributes, String authMethod) {
        Context ctx = tomcat.addContext(path, null);
        // The engine's thread runs every context's background work once a second; a context with a
        // thread of its own gets it up to a minute after a redeploy.
        ctx.setBackgroundProcessorDelay(-1);
        if (webappClasses.containsKey(path)) {
            ctx.setParentClassLoader(new java.net.URLClassLoader(new java.net.URL[] {webappClasses.get(path)},
                    TomcatNode.class.getClassLoader()));
        }
        if (sessionCookiePath != null) {
            ctx.setSessionCookiePath(sessionCookiePath);
        }
        if (attributes != null) { // else Tomcat's StandardManager
            MemcachedSessionManager manager = new MemcachedSessionManager();
            manager.setProcessExpiresFrequency(1);
            for (Map.Entry<String, String> a : attributes.entrySet()) {
                if (!IntrospectionUtils.setProperty(manager, a.getKey(), a.getValue())) {
                    throw new AssertionError("Tomcat could not set Manager attribute " + a.getKey());
                }
            }
            ctx.setManager(manager);
        }
        ctx.addApplicationListener(SessionEvents.class.getName());
        Tomcat.addServlet(ctx, "session", new SessionServlet()).setAsyncSupported(true);
        ctx.addServletMappingDecoded("/s/*", "session");
        ctx.addServletMappingDecoded("/secure/*", "session");
        ctx.addServletMappingDecoded("*.png", "session");
        if (errorPages) {
            for (int code : new int[] {404, 500}) {
                ErrorPage page = new ErrorPage();
                page.setErrorCode(code);
                page.setLocation("/s/error-page");
                ctx.addErrorPage(page);
            }
            ctx.addApplicationListener(FailingRequestListener.class.getName());
        }
        if (authMethod != null) {
            SecurityConstraint constraint = new SecurityConstraint();
            constraint.addAuthRole("user");
            SecurityCollection collection = new SecurityCollection();
            collection.addPatternDecoded("/secure/*");
            constraint.addCollection(collection);
            ctx.addConstraint(constraint);
            ctx.addSecurityRole("user");
            if (authMethod.equals("NONE")) {
                return ctx; // no login method: Tomcat's stand-in authenticator, logins by request.login()
            }
            Tomcat.addServlet(ctx, "login", new LoginPageServlet());
            ctx.addServletMappingDecoded("/login", "login");
            ctx.addServletMappingDecoded("/login-error", "login");
            ctx.setLoginConfig(new LoginConfig(authMethod, "msm", "/login", "/login-error"));
            // As Tomcat's ContextConfig does: the authenticator joins the pipeline at configure-start.
            ctx.addLifecycleListener(event -> {
                if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType())) {
                    ctx.getPipeline().addValve(authMethod.equals("FORM") ? new FormAuthenticator()
                            : new BasicAuthenticator());
                }
            });
        }
        return ctx;
    }

    public String route() {
        return route;
    }

    public String url(String pathAndQuery) {
        return "http://127.0.0.1:" + port + pathAndQuery;
    }

    public Context context(String path) {
        return contexts.get(path);
    }

    public MemcachedSessionManager manager(String path) {
        return (MemcachedSessionManager) contexts.get(path).getManager();
    }

    /**
     * Undeploys the webapp and deploys it again, as a changed context file makes Tomcat do: a new
     * context and a new manager, configured as before.
     */
    public void redeploy(String path) {
        Context old = contexts.remove(path);
        tomcat.getHost().removeChild(old);
        try {
            old.destroy();
        } catch (LifecycleException e) {
            throw new AssertionError("the old context did not go: " + e, e);
        }
        contexts.put(path, addWebapp(path, webapps.get(path), auth.get(path)));
    }

    public boolean isAvailable(String path) {
        return contexts.get(path).getState() == LifecycleState.STARTED;
    }

    /** Stops this Tomcat, as an operator or a crash would take it away from the balancer. */
    @Override
    public void close() {
        if (tomcat == null) {
            return;
        }
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (LifecycleException e) {
            throw new AssertionError("embedded Tomcat " + route + " did not stop: " + e, e);
        } finally {
            tomcat = null;
            deleteTree(baseDir);
        }
    }

    private static void deleteTree(File f) {
        File[] children = f.listFiles();
        if (children != null) {
            for (File c : children) {
                deleteTree(c);
            }
        }
        f.delete();
    }

}

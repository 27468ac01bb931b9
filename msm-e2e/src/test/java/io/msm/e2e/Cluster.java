package io.msm.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * The operator's setup for one Tomcat line, on free loopback ports: memcached nodes n1 and n2, two
 * Tomcats (jvmRoute tomcat1 and tomcat2) from the distribution with the adapter jar in lib/, the
 * webapp in webapps/xnat and a context file of conf-examples/tomcat in conf/Catalina/localhost/xnat.xml,
 * and Apache httpd in front with a balancer file of conf-examples/apache. What the end-to-end tests
 * and the demo run.
 */
final class Cluster implements AutoCloseable {
    static final Path EXAMPLES = Path.of(System.getProperty("e2e.root"), "conf-examples", "apache");

    private final TomcatLine line;
    private final Path dir;
    /** What started, in order; closed in reverse. */
    private final List<AutoCloseable> started = new ArrayList<>();
    private boolean closed;
    private String balancer;
    private MemcachedServer mc1;
    private MemcachedServer mc2;
    private TomcatInstance tomcat1;
    private TomcatInstance tomcat2;
    private ApacheHttpd apache;

    /** Starts nothing yet: whoever closes it stops what {@link #start} got to, however far it got. */
    Cluster(TomcatLine line, Path dir) {
        this.line = line;
        this.dir = dir;
    }

    /**
     * @param context the context file of conf-examples/tomcat, such as {@link ContextExample#STICKY}
     * @param balancer the balancer file of conf-examples/apache, such as msm-sticky.conf
     */
    Cluster start(String context, String balancer) throws IOException {
        return start(context, balancer, "");
    }

    /**
     * @param extraAttributes attributes added to the context file's {@code <Manager>}, for what the
     *     example does not configure; "" for none
     */
    Cluster start(String context, String balancer, String extraAttributes) throws IOException {
        return launch(balancer, () -> ContextExample.render(context, mc1, mc2, extraAttributes),
                List.of(line.adapterJar()));
    }

    /** What a context file is made of once memcached runs: the test's addresses are known then. */
    private interface ContextFile {
        String render() throws IOException;
    }

    private Cluster launch(String balancer, ContextFile contextFile, List<Path> jars) throws IOException {
        this.balancer = balancer;
        try {
            mc1 = track(MemcachedServer.start());
            Processes.record("memcached n1", mc1.pid());
            mc2 = track(MemcachedServer.start());
            Processes.record("memcached n2", mc2.pid());
            String xml = contextFile.render();
            Path webapp = E2eWebapp.build(line, dir.resolve("app"));
            tomcat1 = track(TomcatInstance.startWithJars(line, "tomcat1", dir.resolve("tomcat1"), webapp, xml, jars));
            tomcat2 = track(TomcatInstance.startWithJars(line, "tomcat2", dir.resolve("tomcat2"), webapp, xml, jars));
            apache = track(ApacheHttpd.start(Files.createDirectories(dir.resolve("httpd")), EXAMPLES.resolve(balancer),
                    tomcat1, tomcat2));
            return this;
        } catch (IOException | RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * As {@link #start(String, String, String)}, with each Tomcat's lib/ and context file given:
     * a cluster of another session manager, such as memcached-session-manager 2.3.2, that is switched
     * to msm one Tomcat at a time.
     *
     * @param contextXml the context file with {@code MC1} and {@code MC2} for the memcached addresses
     */
    Cluster startWith(List<Path> jars, String contextXml, String balancer) throws IOException {
        return launch(balancer, () -> withMemcached(contextXml), jars);
    }

    /** The context file with this cluster's memcached for {@code MC1} and {@code MC2}. */
    String withMemcached(String contextXml) {
        return contextXml.replace("MC1", "127.0.0.1:" + mc1.port()).replace("MC2", "127.0.0.1:" + mc2.port());
    }

    /**
     * Stops Apache httpd and starts it again, on another port: its balancer forgets the members it
     * saw fail, which it otherwise skips for a minute (mod_proxy's retry) even once they are back.
     */
    void restartApache() throws IOException {
        ApacheHttpd old = apache;
        synchronized (this) {
            started.remove(old);
        }
        old.close();
        apache = track(ApacheHttpd.start(dir.resolve("httpd"), EXAMPLES.resolve(balancer), tomcat1, tomcat2));
    }

    private synchronized <T extends AutoCloseable> T track(T resource) {
        started.add(resource);
        if (closed) { // closed while starting, as by Ctrl-C: this one must not outlive the others
            close();
            throw new IllegalStateException("stopped while starting");
        }
        return resource;
    }

    TomcatLine line() {
        return line;
    }

    MemcachedServer mc1() {
        return mc1;
    }

    MemcachedServer mc2() {
        return mc2;
    }

    TomcatInstance tomcat1() {
        return tomcat1;
    }

    TomcatInstance tomcat2() {
        return tomcat2;
    }

    ApacheHttpd apache() {
        return apache;
    }

    /** @param route tomcat1 or tomcat2, as a page's servedBy says */
    TomcatInstance tomcat(String route) {
        if (tomcat1.route().equals(route)) {
            return tomcat1;
        }
        if (tomcat2.route().equals(route)) {
            return tomcat2;
        }
        throw new IllegalArgumentException("no Tomcat with jvmRoute " + route);
    }

    TomcatInstance other(TomcatInstance tomcat) {
        return tomcat == tomcat1 ? tomcat2 : tomcat1;
    }

    /** @param nodeId n1 or n2 */
    MemcachedServer memcached(String nodeId) {
        return switch (nodeId) {
            case "n1" -> mc1;
            case "n2" -> mc2;
            default -> throw new IllegalArgumentException("no memcached node " + nodeId);
        };
    }

    /** The memcached node id a session id names: {@code <random>-<nodeId>[.<jvmRoute>]}. */
    static String nodeId(String sessionId) {
        String head = sessionId.contains(".") ? sessionId.substring(0, sessionId.indexOf('.')) : sessionId;
        return head.substring(head.lastIndexOf('-') + 1);
    }

    /** The random part of a session id, which stays when msm moves the session to another node or Tomcat. */
    static String random(String sessionId) {
        String head = sessionId.contains(".") ? sessionId.substring(0, sessionId.indexOf('.')) : sessionId;
        return head.substring(0, Math.max(0, head.lastIndexOf('-')));
    }

    /**
     * @return true when the memcached node holds the session under its id (after the storage key
     *     prefix) and each text is in the stored bytes, as Java serialization writes a String
     */
    static boolean holds(MemcachedServer node, String sessionId, String... texts) {
        for (String key : node.keys()) {
            if (key.endsWith("_" + sessionId)) {
                byte[] value = node.get(key);
                String stored = value == null ? "" : new String(value, StandardCharsets.ISO_8859_1);
                boolean all = true;
                for (String text : texts) {
                    all &= stored.contains(text);
                }
                if (all) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Waits for the asynchronous backup after a response: the node the session id names holds the
     * session, with each text.
     */
    void awaitCopy(String sessionId, String... texts) {
        String node = nodeId(sessionId);
        Await.until("memcached " + node + " to hold session " + sessionId + " with " + List.of(texts),
                Duration.ofSeconds(10), () -> holds(memcached(node), sessionId, texts));
    }

    /** Stops what runs, in the reverse order of starting; a second call does nothing. */
    @Override
    public synchronized void close() {
        closed = true;
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.remove(i).close();
            } catch (Exception e) {
                System.err.println("could not stop " + e.getMessage());
            }
        }
    }
}

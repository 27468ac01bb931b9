package io.msm.benchmarks;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Manager;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.IntrospectionUtils;

/**
 * One embedded Tomcat 9 on a free port of 127.0.0.1 with one webapp per configuration, each
 * serving {@link BenchServlet} under {@code /<key>/s/*} with its own manager, configured as Tomcat
 * applies a context file's attributes.
 */
final class BenchTomcat implements AutoCloseable {
    static final String JVM_ROUTE = "bench";

    private final Map<String, Context> contexts = new LinkedHashMap<>();
    private final Tomcat tomcat = new Tomcat();
    private final File baseDir;

    BenchTomcat(List<Config> configs) throws IOException {
        baseDir = Files.createTempDirectory("msm-bench-tomcat").toFile();
        try {
            tomcat.setBaseDir(baseDir.getAbsolutePath());
            tomcat.setPort(0);
            tomcat.getConnector().setProperty("address", "127.0.0.1");
            // The generator keeps its connections, as a balancer's pool does.
            tomcat.getConnector().setProperty("maxKeepAliveRequests", "-1");
            tomcat.getEngine().setJvmRoute(JVM_ROUTE);
            tomcat.getHost().setAutoDeploy(false);
            for (Config c : configs) {
                contexts.put(c.key, webapp(c));
            }
            tomcat.start();
        } catch (LifecycleException | RuntimeException e) {
            close();
            throw new IllegalStateException("embedded Tomcat did not start: " + e, e);
        }
        for (Config c : configs) {
            if (contexts.get(c.key).getState() != LifecycleState.STARTED) {
                close();
                throw new IllegalStateException("webapp " + c.path() + " (" + c.label + ") did not start; see the log");
            }
        }
    }

    private Context webapp(Config config) {
        Context ctx = tomcat.addContext(config.path(), null);
        if (config.key.startsWith("old-")) {
            ctx.setParentClassLoader(Msm2Manager.loader());
        }
        Manager manager = config.newManager();
        for (Map.Entry<String, String> a : config.attributes().entrySet()) {
            if (!IntrospectionUtils.setProperty(manager, a.getKey(), a.getValue())) {
                throw new IllegalStateException(config.label + ": Tomcat could not set " + a.getKey());
            }
        }
        ctx.setManager(manager);
        Tomcat.addServlet(ctx, "bench", new BenchServlet());
        ctx.addServletMappingDecoded("/s/*", "bench");
        return ctx;
    }

    int port() {
        return tomcat.getConnector().getLocalPort();
    }

    Manager manager(Config config) {
        return contexts.get(config.key).getManager();
    }

    int sessionsInMemory(Config config) {
        return manager(config).getActiveSessions();
    }

    @Override
    public void close() {
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (LifecycleException e) {
            System.err.println("embedded Tomcat did not stop cleanly: " + e);
        } finally {
            deleteTree(baseDir);
        }
    }

    private static void deleteTree(File f) {
        if (f == null) {
            return;
        }
        File[] children = f.listFiles();
        if (children != null) {
            for (File c : children) {
                deleteTree(c);
            }
        }
        f.delete();
    }
}

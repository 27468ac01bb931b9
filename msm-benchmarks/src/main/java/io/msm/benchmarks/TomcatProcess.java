package io.msm.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.msm.testkit.CatalinaBase;
import io.msm.testkit.DirectoryCopy;

/**
 * A Tomcat distribution started with {@code catalina.sh run} on a CATALINA_BASE of its own, with
 * msm's jar in lib/ and the benchmark webapp under one context path per configuration. Its java
 * process is the one measured, killed with SIGKILL, or stopped.
 */
final class TomcatProcess implements AutoCloseable {
    /** Every Tomcat started and not yet stopped, killed when this JVM exits however it exits. */
    private static final java.util.Set<Process> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly)));
    }

    private final Path base;
    private final int port;
    private final Process process;

    private TomcatProcess(Path base, int port, Process process) {
        this.base = base;
        this.port = port;
        this.process = process;
    }

    /** What the distribution and the webapp are made of: the bench profile's paths. */
    static final class Parts {
        final Path home = Path.of(required("bench.tomcatHome"));
        final Path adapterJar = Path.of(required("bench.adapterJar"));
        final Path classes = Path.of(required("bench.classes"));

        private static String required(String name) {
            String value = System.getProperty(name);
            if (value == null || value.isBlank()) {
                throw new IllegalStateException(name + " is not set; run through mvn -Dbench=..., which sets it");
            }
            return value;
        }
    }

    /** The webapps to deploy, by context path without its slash; a null value is StandardManager. */
    static Map<String, Map<String, String>> webapps(Iterable<Config> configs) {
        Map<String, Map<String, String>> webapps = new LinkedHashMap<>();
        for (Config c : configs) {
            webapps.put(c.key, c.isBaseline() ? null : c.attributes());
        }
        return webapps;
    }

    /**
     * Starts Tomcat and returns once the last webapp answers.
     *
     * @param sessionMinutes the webapps' session timeout
     * @param javaOptions CATALINA_OPTS, heap and collector included
     */
    static TomcatProcess start(Parts parts, Path base, int port, String jvmRoute, Map<String, Map<String, String>> webapps,
            int sessionMinutes, String javaOptions) throws IOException, InterruptedException {
        CatalinaBase.create(parts.home, base);
        Files.writeString(base.resolve("conf/server.xml"), String.format(String.join("\n",
                "<Server port=\"-1\" shutdown=\"SHUTDOWN\">",
                "  <Service name=\"Catalina\">",
                "    <Connector port=\"%d\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\" maxThreads=\"200\"/>",
                "    <Engine name=\"Catalina\" defaultHost=\"localhost\" jvmRoute=\"%s\">",
                "      <Host name=\"localhost\" appBase=\"webapps\" autoDeploy=\"false\"/>",
                "    </Engine>",
                "  </Service>",
                "</Server>", ""), port, jvmRoute));
        Files.copy(parts.adapterJar, base.resolve("lib").resolve(parts.adapterJar.getFileName()));
        String last = null;
        for (Map.Entry<String, Map<String, String>> w : webapps.entrySet()) {
            last = w.getKey();
            Path webapp = base.resolve("webapps").resolve(w.getKey());
            DirectoryCopy.copy(parts.classes.resolve("io/msm/benchmarks"),
                    webapp.resolve("WEB-INF/classes/io/msm/benchmarks"));
            Files.writeString(webapp.resolve("WEB-INF/web.xml"), String.join("\n",
                    "<web-app xmlns=\"http://java.sun.com/xml/ns/javaee\" version=\"3.0\">",
                    "  <servlet><servlet-name>b</servlet-name><servlet-class>io.msm.benchmarks.BenchServlet</servlet-class></servlet>",
                    "  <servlet-mapping><servlet-name>b</servlet-name><url-pattern>/b/*</url-pattern></servlet-mapping>",
                    "  <session-config><session-timeout>" + sessionMinutes + "</session-timeout></session-config>",
                    "</web-app>", ""));
            StringBuilder manager = new StringBuilder(w.getValue() == null ? "  <Manager pathname=\"\"/>\n"
                    : "  <Manager className=\"io.msm.tomcat.MemcachedSessionManager\"");
            if (w.getValue() != null) {
                w.getValue().forEach((k, v) -> manager.append(' ').append(k).append("=\"").append(v).append('"'));
                manager.append("/>\n");
            }
            Files.writeString(base.resolve("conf/Catalina/localhost").resolve(w.getKey() + ".xml"),
                    "<Context>\n" + manager + "</Context>\n");
        }
        ProcessBuilder pb = CatalinaBase.run(parts.home, base, javaOptions);
        pb.redirectErrorStream(true).redirectOutput(base.resolve("logs/console.log").toFile());
        TomcatProcess tomcat = new TomcatProcess(base, port, pb.start());
        RUNNING.add(tomcat.process);
        try {
            tomcat.awaitDeployed(last);
            return tomcat;
        } catch (RuntimeException | InterruptedException e) {
            tomcat.kill();
            throw e;
        }
    }

    private void awaitDeployed(String webapp) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/" + webapp + "/b/")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 400) { // the servlet's answer to no action: deployed
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("Tomcat did not start; see " + console());
            }
            Thread.sleep(200);
        }
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path console() {
        return base.resolve("logs/console.log");
    }

    /** SIGKILL of Tomcat's java process ({@code catalina.sh run} execs it): no shutdown, no last backup. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        try {
            process.waitFor();
        } finally {
            RUNNING.remove(process);
        }
    }

    /** An orderly stop (SIGTERM), as an operator's restart. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                kill();
            }
        }
        RUNNING.remove(process);
    }
}

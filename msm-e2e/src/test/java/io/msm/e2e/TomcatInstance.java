package io.msm.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.msm.testkit.Loopback;

/**
 * One Tomcat as an operator runs it: CATALINA_HOME is the unpacked distribution, CATALINA_BASE a
 * directory of its own with server.xml (the jvmRoute), the msm jar in lib/, and the webapp's
 * context file holding the {@code <Manager>}; started with {@code catalina.sh run}, whose java
 * process is the PID a test kills with SIGKILL.
 */
final class TomcatInstance implements AutoCloseable {
    static final String CONTEXT = "/xnat";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final String route;
    private final Path home;
    private final Path base;
    private final int port;
    private Process process;

    private TomcatInstance(String route, Path home, Path base, int port) {
        this.route = route;
        this.home = home;
        this.base = base;
        this.port = port;
    }

    static TomcatInstance start(TomcatLine line, String route, Path base, Path webapp, String managerAttributes)
            throws IOException {
        int port = Loopback.freePort();
        Path home = line.home();
        for (String dir : new String[] {"conf/Catalina/localhost", "lib", "logs", "temp", "webapps", "work"}) {
            Files.createDirectories(base.resolve(dir));
        }
        for (String file : new String[] {"web.xml", "catalina.properties", "logging.properties", "context.xml"}) {
            Files.copy(home.resolve("conf").resolve(file), base.resolve("conf").resolve(file));
        }
        Files.writeString(base.resolve("conf/server.xml"), """
                <Server port="-1" shutdown="SHUTDOWN">
                  <Service name="Catalina">
                    <Connector port="%d" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
                    <Engine name="Catalina" defaultHost="localhost" jvmRoute="%s">
                      <Realm className="org.apache.catalina.realm.MemoryRealm" pathname="conf/tomcat-users.xml"/>
                      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
                    </Engine>
                  </Service>
                </Server>
                """.formatted(port, route));
        Files.writeString(base.resolve("conf/tomcat-users.xml"), """
                <tomcat-users>
                  <user username="alice" password="secret" roles="user"/>
                </tomcat-users>
                """);
        // What the operator writes: the context file with the Manager, and the jar in lib/.
        Files.writeString(base.resolve("conf/Catalina/localhost/xnat.xml"), """
                <Context docBase="%s">
                  <Manager className="io.msm.tomcat.MemcachedSessionManager" %s/>
                </Context>
                """.formatted(webapp, managerAttributes));
        Files.copy(line.adapterJar(), base.resolve("lib").resolve(line.adapterJar().getFileName()));

        TomcatInstance tomcat = new TomcatInstance(route, home, base, port);
        tomcat.launch();
        return tomcat;
    }

    /** Starts a killed Tomcat again, with the same CATALINA_BASE and port, as an operator would. */
    void restart() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException(route + " is running");
        }
        launch();
    }

    private void launch() throws IOException {
        ProcessBuilder pb = new ProcessBuilder("sh", home.resolve("bin/catalina.sh").toString(), "run");
        Map<String, String> env = pb.environment();
        env.put("CATALINA_HOME", home.toString());
        env.put("CATALINA_BASE", base.toString());
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("CATALINA_OPTS", "-Dmsm.e2e.route=" + route + " -Xmx256m");
        env.remove("JAVA_OPTS");
        // appended to, so that a restarted Tomcat keeps the console of its first life
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(consoleLog().toFile()));
        process = Processes.started(route, pb.start());
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!answers()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                String log = Files.readString(base.resolve("logs/console.log"));
                close();
                throw new AssertionError(route + " did not start" + (process.isAlive() ? " in time" : "")
                        + "; its console:\n" + log.substring(Math.max(0, log.length() - 6000)));
            }
            Loopback.pause(200);
        }
    }

    private boolean answers() {
        if (!Loopback.accepts(port)) {
            return false;
        }
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(url(CONTEXT + "/s?op=ping"))).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("pong");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    String route() {
        return route;
    }

    /** host:port, as a balancer member */
    String address() {
        return "127.0.0.1:" + port;
    }

    String url(String path) {
        return "http://" + address() + path;
    }

    long pid() {
        return process.pid();
    }

    boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** conf/Catalina/localhost/xnat.xml: the webapp's context file, holding the {@code <Manager>} */
    Path contextFile() {
        return base.resolve("conf/Catalina/localhost/xnat.xml");
    }

    Path consoleLog() {
        return base.resolve("logs/console.log");
    }

    String console() throws IOException {
        return Files.readString(consoleLog());
    }

    /** kill -9 of the Tomcat's PID: no shutdown hook, no flush, nothing. */
    void kill() {
        process.destroyForcibly();
        waitFor();
        Processes.stopped(process);
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!waitFor()) {
                process.destroyForcibly();
                waitFor();
            }
        }
        if (process != null && !process.isAlive()) {
            Processes.stopped(process);
        }
    }

    private boolean waitFor() {
        try {
            return process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }


}

package io.msm.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.msm.testkit.CatalinaBase;
import io.msm.testkit.DirectoryCopy;
import io.msm.testkit.Loopback;

/**
 * One Tomcat as an operator runs it: CATALINA_HOME is the unpacked distribution, CATALINA_BASE a
 * directory of its own with server.xml (the jvmRoute), the msm jar in lib/, the webapp in
 * webapps/xnat and its context file, conf/Catalina/localhost/xnat.xml, holding the
 * {@code <Manager>}: a file of conf-examples/tomcat as written, but for the memcached addresses.
 * Started with {@code catalina.sh run}, whose java process is the PID a test kills with SIGKILL.
 */
final class TomcatInstance implements AutoCloseable {
    static final String CONTEXT = "/xnat";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    /** A record of org.apache.juli.OneLineFormatter: {@code 27-Mar-2025 10:11:12.345 WARNING [main] ...} */
    private static final Pattern ONE_LINE_RECORD = Pattern.compile("^\\S+ \\S+ (WARNING|SEVERE) \\[");
    /** The second line of a record of java.util.logging.SimpleFormatter: {@code WARNING: ...} */
    private static final Pattern SIMPLE_RECORD = Pattern.compile("^(WARNING|SEVERE): ");

    private final String route;
    private final Path home;
    private final Path base;
    private final int port;
    private Process process;
    /** Where the console of the current (last) start begins in {@link #consoleLog}. */
    private long consoleStart;

    private TomcatInstance(String route, Path home, Path base, int port) {
        this.route = route;
        this.home = home;
        this.base = base;
        this.port = port;
    }

    /**
     * @param webapp the exploded webapp, copied to webapps/xnat: the host's appBase, from which Tomcat
     *     deploys it for the context file, which names no docBase
     * @param contextXml conf/Catalina/localhost/xnat.xml, a file of conf-examples/tomcat with the test's
     *     memcached addresses ({@link ContextExample})
     */
    static TomcatInstance start(TomcatLine line, String route, Path base, Path webapp, String contextXml)
            throws IOException {
        return start(line, route, base, webapp, contextXml, Map.of());
    }

    /**
     * @param catalinaProperties lines added to conf/catalina.properties, where an operator keeps what a
     *     context file refers to as {@code ${name}} (Tomcat sets them as system properties)
     */
    static TomcatInstance start(TomcatLine line, String route, Path base, Path webapp, String contextXml,
            Map<String, String> catalinaProperties) throws IOException {
        return start(line, route, base, webapp, contextXml, catalinaProperties, false, List.of(line.adapterJar()));
    }

    /** As {@link #start(TomcatLine, String, Path, Path, String)}, with other jars in lib/ than msm's. */
    static TomcatInstance startWithJars(TomcatLine line, String route, Path base, Path webapp, String contextXml,
            List<Path> jars) throws IOException {
        return start(line, route, base, webapp, contextXml, Map.of(), false, jars);
    }

    /**
     * As {@link #start(TomcatLine, String, Path, Path, String)}, with the host checking every second
     * for a changed context file (a redeploy) or web.xml (a reload), as a production host does.
     */
    static TomcatInstance startAutoDeploying(TomcatLine line, String route, Path base, Path webapp, String contextXml)
            throws IOException {
        return start(line, route, base, webapp, contextXml, Map.of(), true, List.of(line.adapterJar()));
    }

    private static TomcatInstance start(TomcatLine line, String route, Path base, Path webapp, String contextXml,
            Map<String, String> catalinaProperties, boolean autoDeploy, List<Path> jars) throws IOException {
        int port = Loopback.freePort();
        Path home = line.home();
        CatalinaBase.create(home, base);
        // The Host of the distribution's server.xml: appBase="webapps", and deployOnStartup (true by
        // default) deploys conf/Catalina/localhost/xnat.xml with the webapp webapps/xnat, the context
        // file naming no docBase (unpackWARs does not matter to a directory). autoDeploy is off: nothing
        // is redeployed while a test runs, not even when it rewrites the context file of a stopped Tomcat.
        Files.writeString(base.resolve("conf/server.xml"), """
                <Server port="-1" shutdown="SHUTDOWN">
                  <Service name="Catalina">
                    <Connector port="%d" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000"/>
                    <Engine name="Catalina" defaultHost="localhost" jvmRoute="%s" backgroundProcessorDelay="%d">
                      <Realm className="org.apache.catalina.realm.MemoryRealm" pathname="conf/tomcat-users.xml"/>
                      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="%s"/>
                    </Engine>
                  </Service>
                </Server>
                """.formatted(port, route, autoDeploy ? 1 : 10, autoDeploy));
        StringBuilder properties = new StringBuilder();
        catalinaProperties.forEach((k, v) -> properties.append('\n').append(k).append('=').append(v).append('\n'));
        Files.writeString(base.resolve("conf/catalina.properties"), properties, StandardOpenOption.APPEND);
        Files.writeString(base.resolve("conf/tomcat-users.xml"), """
                <tomcat-users>
                  <user username="alice" password="secret" roles="user"/>
                </tomcat-users>
                """);
        // What the operator installs: the webapp in appBase, the context file with the Manager, the jar in lib/.
        DirectoryCopy.copy(webapp, base.resolve("webapps").resolve(CONTEXT.substring(1)));
        Files.writeString(base.resolve("conf/Catalina/localhost").resolve(CONTEXT.substring(1) + ".xml"), contextXml);
        for (Path jar : jars) {
            Files.copy(jar, base.resolve("lib").resolve(jar.getFileName()));
        }

        TomcatInstance tomcat = new TomcatInstance(route, home, base, port);
        tomcat.launch();
        return tomcat;
    }


    /**
     * What an operator does to switch a stopped Tomcat to other jars: empties lib/ of CATALINA_BASE,
     * puts the jars there and writes the context file.
     */
    void reinstall(List<Path> jars, String contextXml) throws IOException {
        if (isRunning()) {
            throw new IllegalStateException(route + " is running");
        }
        try (Stream<Path> old = Files.list(base.resolve("lib"))) {
            for (Path jar : (Iterable<Path>) old::iterator) {
                Files.delete(jar);
            }
        }
        for (Path jar : jars) {
            Files.copy(jar, base.resolve("lib").resolve(jar.getFileName()));
        }
        Files.writeString(contextFile(), contextXml);
    }

    /** A graceful stop, as {@code catalina.sh stop} or a service manager gives: Tomcat's shutdown runs. */
    void stop() {
        close();
    }

    /** Starts a killed Tomcat again, with the same CATALINA_BASE and port, as an operator would. */
    void restart() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException(route + " is running");
        }
        launch();
    }

    private void launch() throws IOException {
        // English log levels and messages whatever the machine's locale: warnings() looks for WARNING and SEVERE.
        ProcessBuilder pb = CatalinaBase.run(home, base,
                "-Dmsm.e2e.route=" + route + " -Xmx256m -Duser.language=en -Duser.country=US");
        // appended to, so that a restarted Tomcat keeps the console of its first life
        consoleStart = Files.exists(consoleLog()) ? Files.size(consoleLog()) : 0;
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

    /** The webapp answers its ping. */
    boolean isAvailable() {
        return answers();
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

    /** webapps/xnat: the exploded webapp */
    Path webappDir() {
        return base.resolve("webapps").resolve(CONTEXT.substring(1));
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

    /** The console since Tomcat last started. */
    String lastConsole() throws IOException {
        byte[] bytes = Files.readAllBytes(consoleLog());
        int from = (int) Math.min(consoleStart, bytes.length);
        return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
    }

    /**
     * The WARNING and SEVERE records in the console since Tomcat last started, one line each: the
     * record's first line, with the logger that wrote it. Tomcat 8.5 and later write a record in one
     * line ({@code <date> <time> WARNING [main] org.apache.catalina.startup.HostConfig... message});
     * Tomcat 7 in two, the JDK's SimpleFormatter ({@code <date> <time> <class> <method>}, then
     * {@code WARNING: message}).
     */
    List<String> warnings() throws IOException {
        String[] lines = lastConsole().split("\\R");
        List<String> warnings = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (ONE_LINE_RECORD.matcher(lines[i]).find()) {
                warnings.add(lines[i]);
            } else if (SIMPLE_RECORD.matcher(lines[i]).find()) {
                warnings.add((i > 0 ? lines[i - 1] + " " : "") + lines[i]);
            }
        }
        return warnings;
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

package io.msm.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.msm.testkit.Loopback;

/**
 * Debian's Apache httpd 2.4, started by the test on a loopback port with a configuration of its own
 * that includes one of {@code conf-examples/apache/*.conf}, with the example's Tomcat addresses
 * replaced by the test's. A missing apache2 fails the test with the command that installs it.
 */
final class ApacheHttpd implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/sbin/apache2");
    private static final Path MODULES = Path.of("/usr/lib/apache2/modules");
    private static final List<String> MODULE_NAMES = List.of("mpm_event", "authz_core", "proxy", "proxy_http",
            "proxy_balancer", "lbmethod_byrequests", "lbmethod_bytraffic", "slotmem_shm", "headers");

    private final Path dir;
    private final int port;
    private Process process;

    private ApacheHttpd(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** @param example a file of conf-examples/apache, used as written but for the Tomcat addresses */
    static ApacheHttpd start(Path dir, Path example, TomcatInstance tomcat1, TomcatInstance tomcat2)
            throws IOException {
        if (!Files.isExecutable(BINARY)) {
            throw new AssertionError("Apache httpd is not installed, and these tests need a real one;"
                    + " install it with: apt-get install -y apache2");
        }
        int port = Loopback.freePort();
        Files.createDirectories(dir.resolve("run"));
        dir.resolve("run").toFile().setWritable(true, false);
        String balancer = Files.readString(example)
                .replace("tomcat1.example.org:8080", tomcat1.address())
                .replace("tomcat2.example.org:8080", tomcat2.address());
        Files.writeString(dir.resolve("balancer.conf"), balancer);
        StringBuilder conf = new StringBuilder();
        conf.append("ServerRoot \"").append(dir).append("\"\n");
        for (String m : MODULE_NAMES) {
            conf.append("LoadModule ").append(m).append("_module ").append(MODULES.resolve("mod_" + m + ".so")).append('\n');
        }
        conf.append("ServerName 127.0.0.1\n")
                .append("Listen 127.0.0.1:").append(port).append('\n')
                .append("PidFile ").append(dir.resolve("run/httpd.pid")).append('\n')
                .append("DefaultRuntimeDir ").append(dir.resolve("run")).append('\n')
                .append("Mutex file:").append(dir.resolve("run")).append(" default\n")
                .append("ErrorLog ").append(dir.resolve("error.log")).append('\n')
                .append("LogLevel warn\n");
        if ("root".equals(System.getProperty("user.name"))) {
            conf.append("User www-data\nGroup www-data\n");
        }
        conf.append("Include ").append(dir.resolve("balancer.conf")).append('\n');
        Files.writeString(dir.resolve("httpd.conf"), conf);

        ApacheHttpd httpd = new ApacheHttpd(dir, port);
        httpd.process = Processes.started("apache2", new ProcessBuilder(BINARY.toString(), "-f",
                dir.resolve("httpd.conf").toString(), "-DFOREGROUND").redirectErrorStream(true)
                .redirectOutput(dir.resolve("console.log").toFile()).start());
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Loopback.accepts(port)) {
            if (!httpd.process.isAlive() || System.nanoTime() > deadline) {
                httpd.close();
                throw new AssertionError("apache2 did not start: " + Files.readString(dir.resolve("console.log"))
                        + (Files.exists(dir.resolve("error.log")) ? Files.readString(dir.resolve("error.log")) : ""));
            }
            Loopback.pause(50);
        }
        return httpd;
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /** the parent httpd process, which stops its children on SIGTERM */
    long pid() {
        return process.pid();
    }

    Path errorLogFile() {
        return dir.resolve("error.log");
    }

    String errorLog() throws IOException {
        Path log = dir.resolve("error.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy(); // SIGTERM: httpd stops its children too
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        if (process != null && !process.isAlive()) {
            Processes.stopped(process);
        }
    }


}

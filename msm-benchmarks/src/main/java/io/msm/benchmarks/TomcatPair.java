package io.msm.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.msm.testkit.Loopback;

/**
 * Two Tomcat distributions, {@code t1} and {@code t2}, with the same webapps, behind a
 * {@link Balancer}: the smallest cluster where one Tomcat can die and its users go on on the other.
 */
final class TomcatPair implements AutoCloseable {
    static final List<String> ROUTES = List.of("t1", "t2");

    private final TomcatProcess[] tomcats = new TomcatProcess[ROUTES.size()];
    private final Balancer balancer;

    private TomcatPair(Path dir, TomcatProcess.Parts parts, Map<String, Map<String, String>> webapps, int sessionMinutes,
            String javaOptions) throws IOException, InterruptedException {
        int[] ports = new int[tomcats.length];
        try {
            for (int i = 0; i < tomcats.length; i++) {
                ports[i] = Loopback.freePort();
                tomcats[i] = TomcatProcess.start(parts, dir.resolve(ROUTES.get(i)), ports[i], ROUTES.get(i), webapps,
                        sessionMinutes, javaOptions);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
        this.balancer = new Balancer(ROUTES, ports);
    }

    static TomcatPair start(TomcatProcess.Parts parts, Map<String, Map<String, String>> webapps, int sessionMinutes,
            String javaOptions) throws IOException, InterruptedException {
        return new TomcatPair(Files.createTempDirectory("msm-pair"), parts, webapps, sessionMinutes, javaOptions);
    }

    Balancer balancer() {
        return balancer;
    }

    TomcatProcess get(int i) {
        return tomcats[i];
    }

    int size() {
        return tomcats.length;
    }

    /**
     * @return the webapp's {@code /b/stats} (heap after a full collection, threads, msm's held
     *     entries and counters) with the process's open file descriptors, by name
     */
    Map<String, Long> stats(int tomcat, String webapp) throws IOException, InterruptedException {
        Map<String, Long> stats = new LinkedHashMap<>();
        try (HttpConnection c = new HttpConnection(tomcats[tomcat].port())) {
            HttpConnection.Response r = c.get("/" + webapp + "/b/stats", null);
            if (r.status != 200) {
                throw new IOException(ROUTES.get(tomcat) + "/" + webapp + "/b/stats answered " + r.status);
            }
            for (String line : r.body.split("\n")) {
                String[] f = line.trim().split(" ");
                if (f.length == 2 && f[1].matches("-?\\d+")) {
                    stats.put(f[0], Long.parseLong(f[1]));
                }
            }
        }
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + tomcats[tomcat].pid() + "/fd"))) {
            stats.put("FileDescriptors", fds.count());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return stats;
    }

    @Override
    public void close() throws InterruptedException {
        InterruptedException interrupted = null;
        for (TomcatProcess t : tomcats) {
            if (t != null) {
                try {
                    t.close();
                } catch (InterruptedException e) {
                    t.kill(); // the others are stopped all the same
                    interrupted = e;
                }
            }
        }
        if (interrupted != null) {
            throw interrupted;
        }
    }
}

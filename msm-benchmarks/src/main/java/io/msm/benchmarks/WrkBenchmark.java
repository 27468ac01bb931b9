package io.msm.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.msm.testkit.Loopback;
import io.msm.testkit.MemcachedServer;

/**
 * The load run's read and write workloads against a Tomcat 9 distribution started with
 * {@code catalina.sh run}, driven by {@code wrk} from outside its JVM: a generator inside the
 * server's JVM hides contention that an external one shows. Every configuration is a webapp of its
 * own in that one Tomcat (msm's jar in lib/, a context file per webapp), its sessions made first and
 * handed to wrk's script, which sends each request with one of them. Rounds interleave the
 * configurations; the figures are the median of the rounds, as ratios to StandardManager, with the
 * CPU time Tomcat's process spent per request (from /proc).
 */
final class WrkBenchmark {
    private static final Pattern RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in");
    private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
    private static final Pattern ERRORS = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+),"
            + " timeout (\\d+)");
    private static final Pattern P99 = Pattern.compile("\\s99%\\s+([0-9.]+)(us|ms|s)");
    private static final String SCRIPT = String.join("\n",
            "local ids = {}",
            "function init(args)",
            "  for line in io.lines(args[1]) do ids[#ids + 1] = line end",
            "  math.randomseed(os.time() + tonumber(tostring(ids):sub(-6), 16))",
            "end",
            "function request()",
            "  return wrk.format(nil, nil, {Cookie = 'JSESSIONID=' .. ids[math.random(#ids)]})",
            "end", "");

    private final BenchOptions options;
    private final TomcatProcess.Parts parts = new TomcatProcess.Parts();
    private final int threads = Integer.getInteger("bench.wrkThreads", 2);

    WrkBenchmark(BenchOptions options) {
        this.options = options;
    }

    /** A configuration's figures of one workload and round. */
    record Figures(double rate, long requests, long non2xx, long errors, double p99Millis, double cpuMicrosPerRequest,
            double kernelShare, double memcachedOpsPerRequest) {
    }

    int run() throws Exception {
        Path base = Files.createTempDirectory("msm-wrk");
        try (MemcachedServer m1 = MemcachedServer.start("-m", "256");
                MemcachedServer m2 = MemcachedServer.start("-m", "256")) {
            String nodes = "n1:127.0.0.1:" + m1.port() + ",n2:127.0.0.1:" + m2.port();
            List<Config> configs = new ArrayList<>();
            for (Config c : Config.select(nodes, options.configs)) {
                if (!c.reference && !c.key.startsWith("enc-")) { // 2.3.2's jars are not installed; keys need a file
                    configs.add(c);
                }
            }
            int port = Loopback.freePort();
            String jfr = System.getProperty("bench.jfr", "");
            // -Dbench.jfr=<file>: a flight recording of the whole run, to see where Tomcat's time goes.
            try (TomcatProcess tomcat = TomcatProcess.start(parts, base, port, "bench", TomcatProcess.webapps(configs),
                    30, "-Xms1g -Xmx1g -XX:+UseG1GC"
                            + (jfr.isBlank() ? "" : " -XX:StartFlightRecording=settings=profile,filename=" + jfr))) {
                return measure(base, port, configs, tomcat.pid(), List.of(m1, m2));
            }
        }
    }

    private int measure(Path base, int port, List<Config> configs, long pid, List<MemcachedServer> nodes)
            throws Exception {
        System.out.println("Before: " + Machine.describe());
        System.out.println("Tomcat " + parts.home.getFileName() + " (catalina.sh run, -Xmx1g), wrk -t" + threads + " -c"
                + options.connections + ", " + options.sessions + " sessions of " + Payload.NAMES.size()
                + " attributes per configuration, " + options.rounds + " rounds of " + options.roundSeconds + " s");
        Map<String, Path> sessionFiles = new LinkedHashMap<>();
        for (Config c : configs) {
            sessionFiles.put(c.key, createSessions(base, port, c));
        }
        Path script = base.resolve("sessions.lua");
        Files.writeString(script, SCRIPT);
        Map<String, List<Figures>> results = new LinkedHashMap<>();
        boolean clean = true;
        for (int round = 0; round <= options.rounds; round++) { // round 0 warms up
            for (Config c : configs) {
                for (String workload : options.workloads) {
                    int seconds = round == 0 ? options.warmupSeconds : options.roundSeconds;
                    Figures f = wrk(port, c, workload, seconds, script, sessionFiles.get(c.key), pid, nodes);
                    clean &= f.non2xx == 0 && f.errors == 0;
                    if (round > 0) {
                        results.computeIfAbsent(c.key + " " + workload, k -> new ArrayList<>()).add(f);
                    }
                }
            }
        }
        print(configs, results);
        System.out.println("After: " + Machine.describe());
        if (!clean) {
            System.out.println("FAILED: a configuration answered non-2xx (a lost session) or wrk saw socket errors");
        }
        return clean ? 0 : 1;
    }

    private void print(List<Config> configs, Map<String, List<Figures>> results) {
        System.out.println();
        System.out.println("| distribution + wrk, median of " + options.rounds + " rounds | read req/s | read ratio"
                + " | write req/s | write ratio | CPU µs/request read / write | of it in the kernel | p99 ms read / write"
                + " | memcached ops/request read / write | non-2xx |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Map<String, Double> baseline = new LinkedHashMap<>();
        for (Config c : configs) {
            StringBuilder row = new StringBuilder("| " + c.label);
            StringBuilder cpu = new StringBuilder();
            StringBuilder kernel = new StringBuilder();
            StringBuilder p99 = new StringBuilder();
            StringBuilder ops = new StringBuilder();
            long non2xx = 0;
            for (String workload : List.of("read", "write")) {
                List<Figures> rounds = results.get(c.key + " " + workload);
                if (rounds == null) {
                    row.append(" | | ");
                    continue;
                }
                double rate = Medians.of(rounds, Figures::rate);
                if (c.isBaseline()) {
                    baseline.put(workload, rate);
                }
                Double b = baseline.get(workload);
                row.append(String.format(" | %.0f | %s", rate, b == null ? "" : String.format("%.2f", rate / b)));
                cpu.append(cpu.length() == 0 ? "" : " / ").append(String.format("%.0f",
                        Medians.of(rounds, Figures::cpuMicrosPerRequest)));
                kernel.append(kernel.length() == 0 ? "" : " / ").append(String.format("%.0f%%",
                        100 * Medians.of(rounds, Figures::kernelShare)));
                p99.append(p99.length() == 0 ? "" : " / ").append(String.format("%.1f",
                        Medians.of(rounds, Figures::p99Millis)));
                ops.append(ops.length() == 0 ? "" : " / ").append(String.format("%.2f",
                        Medians.of(rounds, Figures::memcachedOpsPerRequest)));
                non2xx += rounds.stream().mapToLong(f -> f.non2xx + f.errors).sum();
            }
            System.out.println(row + " | " + cpu + " | " + kernel + " | " + p99 + " | " + ops + " | " + non2xx + " |");
        }
    }

    private Figures wrk(int port, Config c, String workload, int seconds, Path script, Path sessions, long pid,
            List<MemcachedServer> nodes) throws IOException, InterruptedException {
        long opsBefore = memcachedOps(nodes);
        long[] cpuBefore = cpuTicks(pid);
        Process p = new ProcessBuilder("wrk", "-t" + threads, "-c" + options.connections, "-d" + seconds + "s",
                "--latency", "-s", script.toString(), "http://127.0.0.1:" + port + c.path() + "/b/" + workload, "--",
                sessions.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("wrk failed: " + out);
        }
        long[] cpuAfter = cpuTicks(pid);
        long ops = memcachedOps(nodes) - opsBefore;
        long userTicks = cpuAfter[0] - cpuBefore[0];
        long kernelTicks = cpuAfter[1] - cpuBefore[1];
        long cpuTicks = userTicks + kernelTicks;
        long requests = Long.parseLong(find(REQUESTS, out, "requests"));
        Matcher e = ERRORS.matcher(out);
        long errors = e.find() ? Long.parseLong(e.group(1)) + Long.parseLong(e.group(2)) + Long.parseLong(e.group(3))
                + Long.parseLong(e.group(4)) : 0;
        Matcher n = NON_2XX.matcher(out);
        Matcher q = P99.matcher(out);
        double p99 = q.find() ? Double.parseDouble(q.group(1)) * (q.group(2).equals("us") ? 0.001
                : q.group(2).equals("s") ? 1000 : 1) : Double.NaN;
        // /proc/<pid>/stat counts in clock ticks of 10 ms (USER_HZ 100 on Linux).
        double cpuMicros = requests == 0 ? Double.NaN : cpuTicks * 10_000.0 / requests;
        return new Figures(Double.parseDouble(find(RATE, out, "Requests/sec")), requests,
                n.find() ? Long.parseLong(n.group(1)) : 0, errors, p99, cpuMicros,
                cpuTicks == 0 ? Double.NaN : (double) kernelTicks / cpuTicks, requests == 0 ? Double.NaN
                        : (double) ops / requests);
    }

    private static String find(Pattern pattern, String text, String what) {
        Matcher m = pattern.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("wrk's output has no " + what + ":\n" + text);
        }
        return m.group(1);
    }

    /**
     * @return the commands both nodes served so far: each key read (a multi-get counts its keys), stored
     *     (set, add, cas), touched, deleted, counted; the health check's probe adds one a second per node
     */
    private static long memcachedOps(List<MemcachedServer> nodes) {
        long sum = 0;
        for (MemcachedServer node : nodes) {
            Map<String, String> stats = node.stats();
            for (String figure : List.of("cmd_get", "cmd_set", "cmd_touch", "delete_hits", "delete_misses", "incr_hits",
                    "incr_misses", "decr_hits", "decr_misses")) {
                String value = stats.get(figure);
                if (value == null) {
                    throw new IllegalStateException("memcached's stats lack " + figure);
                }
                sum += Long.parseLong(value);
            }
        }
        return sum;
    }

    /** @return utime and stime of the process (user and kernel), in clock ticks */
    private static long[] cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])}; // fields 14 and 15 of the whole line
    }

    /** @return a file with one session id a line, made through the webapp's /create */
    private Path createSessions(Path base, int port, Config c) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < options.sessions; i++) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + c.path()
                    + "/b/create?n=" + i)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException(c.key + ": /create answered " + r.statusCode());
            }
            ids.add(r.body().trim());
        }
        Thread.sleep(1000); // asynchronous backups of the new sessions finish
        Path file = base.resolve(c.key + ".sessions");
        Files.write(file, ids);
        return file;
    }
}

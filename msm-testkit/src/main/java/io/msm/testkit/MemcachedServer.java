package io.msm.testkit;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real memcached process on a free loopback port, started by the test and stopped by PID. It can
 * be killed with SIGKILL and restarted on the same port, empty, like a crashed node coming back.
 * A missing binary fails the test with the command that installs it; nothing is skipped.
 */
public final class MemcachedServer implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    /** Every process started and not yet stopped, killed when the test JVM exits however it exits. */
    private static final java.util.Set<Process> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly)));
    }

    private final int port;
    private final List<String> extraArgs;
    private final Map<String, String> environment = new HashMap<>();
    private final Path log;
    private Process process;
    private boolean paused;

    private MemcachedServer(int port, List<String> extraArgs) throws IOException {
        this.port = port;
        this.extraArgs = extraArgs;
        this.log = Files.createTempFile("memcached-" + port + "-", ".log");
    }

    /** Starts memcached on a free port of 127.0.0.1. */
    public static MemcachedServer start(String... extraArgs) {
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                MemcachedServer server = new MemcachedServer(Loopback.freePort(), List.of(extraArgs));
                server.launch();
                return server;
            } catch (IOException e) {
                last = e; // the port was taken between probing and binding: try another one
            }
        }
        throw new AssertionError("memcached did not start: " + last.getMessage(), last);
    }

    /**
     * Starts memcached with SASL ({@code -S}) and one user, in a password database made now with
     * Cyrus SASL's {@code saslpasswd2}. Such a server answers the binary protocol only, and only
     * after authentication: the text-protocol helpers of this class do not work on it.
     */
    public static MemcachedServer startWithSasl(String user, String password, String... extraArgs) {
        try {
            Path dir = Files.createTempDirectory("memcached-sasl-");
            Path db = dir.resolve("sasldb");
            String saslpasswd = findOnPath("saslpasswd2", "/usr/sbin/saslpasswd2");
            Process p = new ProcessBuilder(saslpasswd, "-p", "-c", "-a", "memcached", "-f", db.toString(), user)
                    .redirectErrorStream(true).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(password.getBytes(StandardCharsets.UTF_8));
            }
            if (!p.waitFor(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
                throw new AssertionError("saslpasswd2 did not make the password database: "
                        + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            Files.write(dir.resolve("memcached.conf"), ("mech_list: plain\nsasldb_path: " + db + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            IOException last = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                List<String> args = new ArrayList<>(List.of("-S"));
                args.addAll(List.of(extraArgs));
                MemcachedServer server = new MemcachedServer(Loopback.freePort(), args);
                server.environment.put("SASL_CONF_PATH", dir.toString());
                try {
                    server.launch();
                    return server;
                } catch (IOException e) {
                    last = e;
                }
            }
            throw new AssertionError("memcached with SASL did not start: " + last.getMessage(), last);
        } catch (IOException e) {
            throw new AssertionError("memcached with SASL could not be prepared: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while making the SASL password database", e);
        }
    }

    /**
     * Starts memcached with TLS ({@code -Z}) on its port, presenting the given certificate. With
     * {@code clientCa} it also requires a client certificate that CA signed (mutual TLS). The
     * text-protocol helpers of this class do not speak TLS and do not work on it.
     */
    public static MemcachedServer startWithTls(Path certificate, Path key, Path clientCa) {
        return start(tlsArgs(certificate, key, clientCa));
    }

    /** @return the arguments that turn TLS on, for {@link #startWithTls} or with {@link #startWithSasl} */
    public static String[] tlsArgs(Path certificate, Path key, Path clientCa) {
        String options = "ssl_chain_cert=" + certificate + ",ssl_key=" + key
                + (clientCa == null ? "" : ",ssl_ca_cert=" + clientCa + ",ssl_verify_mode=2");
        return new String[] {"-Z", "-o", options};
    }

    private static String findOnPath(String name, String usual) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            File candidate = new File(dir, name);
            if (candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        if (new File(usual).canExecute()) {
            return usual;
        }
        throw new AssertionError(name + " is missing (not on the PATH nor at " + usual + "), and the SASL tests"
                + " need it to make memcached's password database; install it with: apt-get install -y sasl2-bin");
    }

    public int port() {
        return port;
    }

    /** @return id:host:port for {@code memcachedNodes} */
    public String node(String id) {
        return id + ":127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** SIGKILL, as {@code kill -9}: the node vanishes with everything it held. */
    public void kill() {
        if (process != null) {
            process.destroyForcibly(); // SIGKILL ends a paused process too
            waitFor(process);
            RUNNING.remove(process);
            paused = false;
        }
    }

    /**
     * SIGSTOP: the node hangs, as a host that swaps, freezes or sits behind a broken network does.
     * Its connections stay open and its data stays, but nothing is answered until {@link #resume}.
     */
    public void pause() {
        signal("STOP");
        paused = true;
    }

    /** SIGCONT: the node answers again, with everything it held before it hung. */
    public void resume() {
        signal("CONT");
        paused = false;
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(pid())).redirectErrorStream(true)
                    .start();
            if (!kill.waitFor(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + pid() + " failed: "
                        + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new AssertionError("kill -" + name + " could not be run: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while sending SIG" + name, e);
        }
    }

    /** Starts it again on the same port, empty. */
    public void restart() {
        kill();
        Await.until("port " + port + " to be free for memcached's restart", START_TIMEOUT, () -> !Loopback.accepts(port));
        try {
            launch();
        } catch (IOException e) {
            throw new AssertionError("memcached did not restart on port " + port + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (paused && process != null && process.isAlive()) {
            resume(); // a stopped process would hold SIGTERM until continued
        }
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!waitFor(process)) {
                process.destroyForcibly();
                waitFor(process);
            }
        }
        if (process != null) {
            RUNNING.remove(process);
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException e) {
            // only a temp file
        }
    }

    private void launch() throws IOException {
        String binary = binary();
        List<String> cmd = new ArrayList<>(List.of(binary, "-l", "127.0.0.1", "-p", String.valueOf(port), "-U", "0",
                "-m", "64", "-t", "2"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add("-u");
            cmd.add("root"); // memcached refuses to run as root unless told which user to be
        }
        cmd.addAll(extraArgs);
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        process = builder.start();
        RUNNING.add(process);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Loopback.accepts(port)) {
            if (!process.isAlive()) {
                throw new IOException("memcached exited with " + process.exitValue() + ": " + tail());
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IOException("memcached did not accept connections on port " + port + " within "
                        + START_TIMEOUT.toSeconds() + " s: " + tail());
            }
            Loopback.pause(10);
        }
    }

    private String tail() {
        try {
            String text = Files.readString(log);
            return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /**
     * Names the memcached binary to run instead of looking it up on the PATH: for a memcached built
     * elsewhere, and for the test that proves a missing binary is reported.
     */
    static final String BINARY_PROPERTY = "msm.test.memcached";

    private static String binary() {
        String configured = System.getProperty(BINARY_PROPERTY);
        if (configured != null) {
            if (new File(configured).canExecute()) {
                return configured;
            }
            throw new AssertionError("the memcached binary is missing: -D" + BINARY_PROPERTY + "=" + configured
                    + " is not an executable file, and these tests need a real memcached; install it with:"
                    + " apt-get install -y memcached, or point -D" + BINARY_PROPERTY + " at one");
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            File candidate = new File(dir, "memcached");
            if (candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        File usual = new File("/usr/bin/memcached");
        if (usual.canExecute()) {
            return usual.getPath();
        }
        throw new AssertionError("the memcached binary is missing (not on the PATH nor at /usr/bin/memcached), and"
                + " these tests need a real one; install it with: apt-get install -y memcached");
    }



    private static boolean waitFor(Process p) {
        try {
            return p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }


    // A few text-protocol commands, independent of the code under test, to look at what it stored.

    /** @return the value of the key, or null */
    public byte[] get(String key) {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write(("get " + key + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String line = readLine(in);
            if (line.equals("END")) {
                return null;
            }
            String[] parts = line.split(" ");
            if (!parts[0].equals("VALUE")) {
                throw new AssertionError("unexpected memcached answer: " + line);
            }
            byte[] value = in.readNBytes(Integer.parseInt(parts[3]));
            readLine(in);
            readLine(in); // END
            return value;
        } catch (IOException e) {
            throw new AssertionError("memcached on port " + port + " does not answer: " + e.getMessage(), e);
        }
    }

    /** Writes raw bytes under a key, as an attacker or another program could. */
    public void set(String key, byte[] value, int expirySeconds) {
        String reply = reply(("set " + key + " 0 " + expirySeconds + " " + value.length + "\r\n")
                .getBytes(StandardCharsets.US_ASCII), value, "\r\n".getBytes(StandardCharsets.US_ASCII));
        if (!reply.equals("STORED")) {
            throw new AssertionError("memcached did not store " + key + ": " + reply);
        }
    }

    /** Deletes a key, as memcached does when it evicts it; no error when it is absent. */
    public void delete(String key) {
        String reply = reply(("delete " + key + "\r\n").getBytes(StandardCharsets.US_ASCII));
        if (!reply.equals("DELETED") && !reply.equals("NOT_FOUND")) {
            throw new AssertionError("memcached did not delete " + key + ": " + reply);
        }
    }

    /** Sends one command and returns its one-line answer. */
    private String reply(byte[]... request) {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            for (byte[] part : request) {
                out.write(part);
            }
            out.flush();
            return readLine(s.getInputStream());
        } catch (IOException e) {
            throw new AssertionError("memcached on port " + port + " does not answer: " + e.getMessage(), e);
        }
    }

    /**
     * @return every key the server holds (memcached 1.4.31+ {@code lru_crawler metadump}). The crawler
     *     misses an item read in the last few milliseconds (measured with memcached 1.6.18: half the
     *     listings right after a {@code get} lacked it, none 50 ms later), so two listings 100 ms apart
     *     are joined: a key read just before still shows.
     */
    public List<String> keys() {
        java.util.Set<String> keys = listedKeys();
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while listing keys", e);
        }
        keys.addAll(listedKeys());
        return new ArrayList<>(keys);
    }

    /**
     * @return when the key expires, in Unix seconds by memcached's clock; -1 for never; null when the
     *     key is absent. Asked with the meta protocol (memcached 1.6+), not the key listing, which
     *     misses an item read just before (see {@link #keys()}).
     */
    public Long expiresAt(String key) {
        for (int attempt = 0; attempt < 5; attempt++) {
            long before = serverTime();
            String answer = reply(("mg " + key + " t\r\n").getBytes(StandardCharsets.US_ASCII));
            long after = serverTime();
            if (answer.equals("EN")) {
                return null;
            }
            if (!answer.startsWith("HD")) {
                throw new AssertionError("memcached cannot tell the expiry of " + key + " (memcached 1.6 or later"
                        + " answers mg): " + answer);
            }
            long ttl = Long.MIN_VALUE;
            for (String flag : answer.split(" ")) {
                if (flag.startsWith("t")) {
                    ttl = Long.parseLong(flag.substring(1));
                }
            }
            if (ttl == Long.MIN_VALUE) {
                throw new AssertionError("memcached answered mg without the time to live: " + answer);
            }
            if (ttl == -1) {
                return -1L;
            }
            if (before == after) {
                return before + ttl; // else memcached's clock ticked in between: asked again
            }
        }
        throw new AssertionError("memcached's clock ticked during each of 5 expiry questions on port " + port);
    }

    /**
     * @return memcached's {@code stats}, figure name to value, read in one round trip; a test waits on
     *     them for writes to stop (another client's backups, on threads the test cannot see)
     */
    public Map<String, String> stats() {
        Map<String, String> figures = new HashMap<>();
        for (String line : linesUntilEnd("stats")) {
            String[] parts = line.split(" ", 3); // STAT <name> <value>
            if (parts.length == 3 && parts[0].equals("STAT")) {
                figures.put(parts[1], parts[2].trim());
            }
        }
        return figures;
    }

    /** @return memcached's own current time, Unix seconds, which its expiry times count in */
    private long serverTime() {
        String time = stats().get("time");
        if (time == null) {
            throw new AssertionError("memcached on port " + port + " gave no time in its statistics");
        }
        return Long.parseLong(time);
    }

    private java.util.Set<String> listedKeys() {
        java.util.Set<String> keys = new java.util.LinkedHashSet<>();
        for (String line : crawlerLines("lru_crawler metadump all")) {
            if (line.startsWith("key=")) {
                keys.add(java.net.URLDecoder.decode(line.substring(4, line.indexOf(' ')), StandardCharsets.UTF_8));
            }
        }
        return keys;
    }

    /**
     * A crawler command, asked again while memcached's own expiry crawl keeps the crawler busy (it
     * runs right after start and now and then): BUSY is a moment's answer, not an error.
     */
    private List<String> crawlerLines(String command) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return linesUntilEnd(command);
            } catch (CrawlerBusy busy) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("memcached on port " + port + " kept its crawler busy for 10 s: "
                            + busy.getMessage());
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for memcached's crawler", e);
                }
            }
        }
    }

    /** memcached's crawler answered BUSY. */
    private static final class CrawlerBusy extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CrawlerBusy(String answer) {
            super(answer, null, false, false);
        }
    }

    /** Sends a command answered by lines up to END; one saying it cannot answer fails the test. */
    private List<String> linesUntilEnd(String command) {
        List<String> lines = new ArrayList<>();
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            for (String line = readLine(in); !line.equals("END"); line = readLine(in)) {
                if (line.startsWith("BUSY")) {
                    throw new CrawlerBusy(line);
                }
                if (line.startsWith("ERROR")) {
                    throw new AssertionError("memcached on port " + port + " cannot answer " + command + ": " + line);
                }
                lines.add(line);
            }
        } catch (IOException e) {
            throw new AssertionError("memcached on port " + port + " does not answer: " + e.getMessage(), e);
        }
        return lines;
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        s.setSoTimeout(5000);
        return s;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                break;
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        if (b == -1 && line.size() == 0) {
            throw new IOException("connection closed");
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}

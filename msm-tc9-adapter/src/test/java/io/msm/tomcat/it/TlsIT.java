package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;
import io.msm.testkit.TestCertificates;

/**
 * tls="true" against memcached started with TLS and certificates made by the test: the right CA
 * works in both modes, with a client certificate too; a wrong CA, a certificate for another host,
 * a node without TLS or a missing client certificate is one SEVERE line per node naming the cause,
 * sessions stay in memory, and nothing ever goes over a connection without TLS. The other way
 * round, a node that speaks only TLS while tls is off, is a SEVERE line that says to set it, and a
 * node out of connections one that says so.
 */
class TlsIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String APP = "/app";
    private static final String SERVER_NAMES = "IP:127.0.0.1,DNS:localhost";

    private final List<MemcachedServer> servers = new ArrayList<>();
    private final List<TomcatNode> tomcats = new ArrayList<>();
    private LogCapture log;
    private TestCertificates ca;
    /** Threads that died of an uncaught throwable, such as the memcached client's IO thread. */
    private final List<String> died = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Thread.UncaughtExceptionHandler before;

    @BeforeEach
    void start() {
        log = new LogCapture("");
        ca = TestCertificates.newCa("good");
        before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> died.add(t.getName() + ": " + e));
    }

    @AfterEach
    void stop() {
        log.close();
        tomcats.forEach(TomcatNode::close);
        servers.forEach(MemcachedServer::close);
        Thread.setDefaultUncaughtExceptionHandler(before);
        // The TLS client's IO thread once died reading a statistics answer out of step (assertions on).
        assertEquals(List.of(), died.stream().filter(d -> !d.contains("SHUTTING DOWN")).collect(
                java.util.stream.Collectors.toList()), "threads that died");
    }

    private MemcachedServer tlsNode(TestCertificates signer, String names, boolean requireClientCertificate) {
        Path[] cert = signer.signed("memcached-" + servers.size(), names);
        MemcachedServer server = MemcachedServer.startWithTls(cert[0], cert[1], requireClientCertificate ? ca.caPem() : null);
        servers.add(server);
        return server;
    }

    private TomcatNode tomcat(String route, MemcachedServer[] nodes, String... attributes) {
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("memcachedNodes", nodes[0].node("n1") + "," + nodes[1].node("n2"));
        attrs.put("tls", "true");
        attrs.put("tlsTrustStoreFile", ca.trustStore().toString());
        attrs.put("tlsTrustStorePassword", TestCertificates.STORE_PASSWORD);
        for (int i = 0; i < attributes.length; i += 2) {
            if (attributes[i + 1] == null) {
                attrs.remove(attributes[i]); // left out, as an operator who never wrote it
            } else {
                attrs.put(attributes[i], attributes[i + 1]);
            }
        }
        TomcatNode node = new TomcatNode(route).webapp(APP, attrs);
        tomcats.add(node);
        return node.start();
    }

    /** A session set on one Tomcat is read on another after the first is gone: it went through memcached. */
    private void sessionGoesThroughMemcached(MemcachedServer[] nodes, String... attributes) {
        TomcatNode tomcat1 = tomcat("tomcat1", nodes, attributes);
        TomcatNode tomcat2 = tomcat("tomcat2", nodes, attributes);
        Browser user = new Browser();
        assertEquals("alice", user.get(tomcat1.url("/app/s/set?name=alice")).get("attr.name"));
        tomcat1.close();
        assertEquals("alice", user.get(tomcat2.url("/app/s/get")).get("attr.name"), "read from memcached");
        assertEquals(List.of(), problems());
    }

    private List<String> problems() {
        return log.lines(r -> r.getLevel().intValue() >= Level.WARNING.intValue() && r.getLoggerName() != null
                && r.getLoggerName().startsWith("io.msm"));
    }

    private List<String> severe() {
        return log.lines(r -> r.getLevel() == Level.SEVERE && r.getLoggerName() != null
                && r.getLoggerName().startsWith("io.msm"));
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void theRightCaWorks(boolean sticky) {
        MemcachedServer[] nodes = {tlsNode(ca, SERVER_NAMES, false), tlsNode(ca, SERVER_NAMES, false)};
        sessionGoesThroughMemcached(nodes, sticky ? new String[] {"sessionBackupAsync", "false",
            "sessionBackupTimeout", "5000"} : new String[] {"sticky", "false"});
    }

    /**
     * A session stored in parts (over 1 MB) is read back in one request that fetches many items:
     * memcached sends their answers in few TLS records, each holding several answers.
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void aLargeSessionGoesThroughMemcachedOverTlsWhole(boolean sticky) {
        MemcachedServer[] nodes = {tlsNode(ca, SERVER_NAMES, false), tlsNode(ca, SERVER_NAMES, false)};
        String[] attributes = sticky ? new String[] {"sessionBackupAsync", "false", "sessionBackupTimeout", "5000"}
                : new String[] {"sticky", "false"};
        TomcatNode tomcat1 = tomcat("tomcat1", nodes, attributes);
        TomcatNode tomcat2 = tomcat("tomcat2", nodes, attributes);
        Browser user = new Browser();
        user.get(tomcat1.url("/app/s/big?mb=3"));
        tomcat1.close();
        for (int i = 0; i < 3; i++) {
            Browser.Page page = user.get(tomcat2.url("/app/s/blob"));
            assertEquals("3000000", page.get("blob.length"), "read from memcached over TLS");
            assertEquals("true", page.get("blob.intact"));
        }
        assertEquals(List.of(), problems());
    }

    /**
     * Many users at once on two non-sticky Tomcats over TLS, some sessions larger than a TLS record
     * and one in parts: the client drops what a TLS record holds after one answer, and answers of
     * requests sent together could share a record. Each user must get her own session, every time.
     */
    @Test
    void aCrowdOverTls_eachUserGetsHerOwnSessionEveryTime() throws Exception {
        MemcachedServer[] nodes = {tlsNode(ca, SERVER_NAMES, false), tlsNode(ca, SERVER_NAMES, false)};
        TomcatNode tomcat1 = tomcat("tomcat1", nodes, "sticky", "false", "lockingMode", "none");
        TomcatNode tomcat2 = tomcat("tomcat2", nodes, "sticky", "false", "lockingMode", "none");
        List<String> wrong = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger right = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> users = new ArrayList<>();
        for (int n = 0; n < 24; n++) {
            String owner = "u" + n;
            String size = n == 0 ? "1.5" : n % 4 == 0 ? "0.05" : null; // parts; several TLS records
            users.add(new Thread(() -> {
                Browser user = new Browser();
                user.get(tomcat1.url("/app/s/set?owner=" + owner));
                if (size != null) {
                    user.get(tomcat1.url("/app/s/big?mb=" + size));
                }
                for (int i = 0; i < 100; i++) {
                    String seen = user.get((i % 2 == 0 ? tomcat2 : tomcat1).url("/app/s/get")).get("attr.owner");
                    if (owner.equals(seen)) {
                        right.incrementAndGet();
                    } else if (wrong.size() < 5) {
                        wrong.add(owner + " saw " + seen);
                    }
                }
            }));
        }
        users.forEach(Thread::start);
        for (Thread t : users) {
            t.join(120_000);
        }
        assertEquals(List.of(), wrong);
        assertEquals(2400, right.get());
        assertEquals(List.of(), problems());
    }

    /**
     * Non-sticky over TLS, the session's node killed: the next request reads the backup copy, its
     * validity record and its markers from the other node in one batch (several hits in one TLS record),
     * and the user is still logged in; after the node's restart, empty, still.
     */
    @ParameterizedTest(name = "lockingMode={0}")
    @ValueSource(strings = {"none", "all"})
    void nonSticky_theSessionsNodeDies_itsBackupCopyIsReadOverTls(String lockingMode) {
        MemcachedServer[] nodes = {tlsNode(ca, SERVER_NAMES, false), tlsNode(ca, SERVER_NAMES, false)};
        TomcatNode tomcat1 = tomcat("tomcat1", nodes, "sticky", "false", "lockingMode", lockingMode);
        TomcatNode tomcat2 = tomcat("tomcat2", nodes, "sticky", "false", "lockingMode", lockingMode);
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/set?name=alice")).get("id");
        MemcachedServer own = nodes[id.endsWith("-n1") ? 0 : 1];

        own.kill();
        for (int i = 0; i < 3; i++) {
            Browser.Page page = user.get(tomcat2.url("/app/s/get"));
            assertEquals("alice", page.get("attr.name"), "request " + i + " after the node died: " + page.body());
        }
        own.restart();
        for (TomcatNode tomcat : new TomcatNode[] {tomcat1, tomcat2}) {
            Browser.Page page = user.get(tomcat.url("/app/s/get"));
            assertEquals("alice", page.get("attr.name"), "after the node's restart on " + tomcat.route() + ": "
                    + page.body());
        }
    }

    @Test
    void mutualTls_aClientCertificateTheNodeTrusts() {
        MemcachedServer[] nodes = {tlsNode(ca, SERVER_NAMES, true), tlsNode(ca, SERVER_NAMES, true)};
        sessionGoesThroughMemcached(nodes, "sticky", "false",
                "tlsKeyStoreFile", ca.clientKeyStore("tomcat").toString(),
                "tlsKeyStorePassword", TestCertificates.STORE_PASSWORD);
    }

    @Test
    void hostnameVerificationOff_acceptsACertificateForAnotherHost() {
        MemcachedServer[] nodes = {tlsNode(ca, "DNS:other.example", false), tlsNode(ca, "DNS:other.example", false)};
        sessionGoesThroughMemcached(nodes, "sticky", "false", "tlsHostnameVerification", "false");
    }

    @ParameterizedTest(name = "memcachedProtocol={0}")
    @ValueSource(strings = {"binary", "text"})
    void tlsOffAgainstANodeThatSpeaksOnlyTls_isOneSevereLinePerNodeSayingToSetIt(String protocol) {
        MemcachedServer[] nodes = {tlsNode(ca, SERVER_NAMES, false), tlsNode(ca, SERVER_NAMES, false)};
        TomcatNode tomcat = tomcat("tomcat1", nodes, "tls", null, "tlsTrustStoreFile", null,
                "tlsTrustStorePassword", null, "memcachedProtocol", protocol);
        servedFromMemoryWithOneSevereLinePerNode(tomcat, "set tls=\"true\"");
    }

    @Test
    void aNodeOutOfConnections_isOneSevereLinePerNodeSayingSo_andSessionsReachItOnceItHasRoom() throws Exception {
        MemcachedServer[] nodes = new MemcachedServer[2];
        for (int i = 0; i < 2; i++) {
            nodes[i] = MemcachedServer.start("-c", "20", "-t", "1");
            servers.add(nodes[i]);
        }
        List<java.net.Socket> taken = new ArrayList<>();
        try {
            for (MemcachedServer node : nodes) {
                for (int i = 0; i < 40; i++) { // more than the limit: memcached turns the rest away
                    java.net.Socket s = new java.net.Socket("127.0.0.1", node.port());
                    s.getOutputStream().write("version\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    s.getInputStream().read();
                    taken.add(s);
                }
            }
            TomcatNode tomcat = tomcat("tomcat1", nodes, "tls", null, "tlsTrustStoreFile", null,
                    "tlsTrustStorePassword", null);
            servedFromMemoryWithOneSevereLinePerNode(tomcat, "Too many open connections");
        } finally {
            for (java.net.Socket s : taken) {
                s.close();
            }
        }
        Await.until("the session on a node once the nodes have room", Duration.ofSeconds(30), () -> {
            try {
                return nodes[0].keys().size() + nodes[1].keys().size() > 2;
            } catch (AssertionError stillFull) { // memcached notices the closed connections a moment later
                return false;
            }
        });
    }

    /**
     * memcachedNodes names a port where a web server listens: it answers memcached's requests with
     * a line of its own, which the client once read as the length of a body to allocate.
     */
    @Test
    void aPortWhereSomethingElseListens_isOneSevereLinePerNodeQuotingItsAnswer() throws Exception {
        try (OtherServer web1 = new OtherServer("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
                OtherServer web2 = new OtherServer("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")) {
            Map<String, String> attrs = new LinkedHashMap<>();
            attrs.put("memcachedNodes", "n1:127.0.0.1:" + web1.port() + ",n2:127.0.0.1:" + web2.port());
            TomcatNode node = new TomcatNode("tomcat1").webapp(APP, attrs);
            tomcats.add(node);
            servedFromMemoryWithOneSevereLinePerNode(node.start(), "'HTTP/1.1 400 Bad Request', which is not how"
                    + " memcached answers it: does memcachedNodes name memcached's port?");
        }
    }

    /** Not memcached: answers every connection with the same bytes once it has read something, then closes it. */
    private static final class OtherServer implements AutoCloseable {
        private final java.net.ServerSocket socket;
        private final Thread thread;

        OtherServer(String answer) throws java.io.IOException {
            socket = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
            thread = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (java.net.Socket c = socket.accept()) {
                        c.setSoTimeout(2000);
                        c.getInputStream().read();
                        c.getOutputStream().write(answer.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    } catch (java.io.IOException e) {
                        // closed, or a client that went away: the next one is served
                    }
                }
            }, "other-server");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            socket.close();
            thread.join(5000);
        }
    }

    /** Ten requests answered from memory, then exactly one SEVERE line per node that contains {@code hint}. */
    private void servedFromMemoryWithOneSevereLinePerNode(TomcatNode tomcat, String hint) {
        Browser user = new Browser();
        for (int i = 1; i <= 10; i++) {
            Browser.Page page = user.get(tomcat.url("/app/s/set?step=" + i));
            assertEquals(200, page.status());
            assertEquals(String.valueOf(i), page.get("attr.step"), "served from memory");
        }
        Await.until("a SEVERE line for each node", WAIT, () -> severe().size() >= 2);
        List<String> severe = severe();
        assertEquals(2, severe.size(), String.valueOf(severe));
        for (String line : severe) {
            assertTrue(line.contains(hint), line);
        }
        assertTrue(severe.get(0).contains("n1") || severe.get(1).contains("n1"), String.valueOf(severe));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"unknown CA", "another host", "no TLS there", "no client certificate"})
    void aTlsFailureIsOneSevereLinePerNode_sessionsStayInMemory_andNothingGoesInClear(String kind) {
        MemcachedServer[] nodes = new MemcachedServer[2];
        for (int i = 0; i < 2; i++) {
            switch (kind) {
                case "unknown CA":
                    nodes[i] = tlsNode(TestCertificates.newCa("other"), SERVER_NAMES, false);
                    break;
                case "another host":
                    nodes[i] = tlsNode(ca, "DNS:other.example", false);
                    break;
                case "no TLS there":
                    nodes[i] = MemcachedServer.start();
                    servers.add(nodes[i]);
                    break;
                default:
                    nodes[i] = tlsNode(ca, SERVER_NAMES, true);
            }
        }
        servedFromMemoryWithOneSevereLinePerNode(tomcat("tomcat1", nodes), "TLS failed");
        if (kind.equals("no TLS there")) {
            for (MemcachedServer plain : nodes) {
                assertEquals(List.of(), plain.keys(), "nothing was written without TLS");
            }
        }
    }
}

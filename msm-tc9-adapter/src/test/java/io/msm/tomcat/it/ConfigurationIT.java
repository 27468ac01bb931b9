package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.testkit.MemcachedServer;

/**
 * Bad attributes in the context file stop the webapp at start, with one message that names each
 * attribute, what was written, and what to write instead. Tomcat itself keeps running.
 */
class ConfigurationIT {
    private final List<LogRecord> records = new ArrayList<>();
    private final Logger contextLog = Logger.getLogger("org.apache.catalina.core.StandardContext");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            synchronized (records) {
                records.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private TomcatNode tomcat;
    /** For the tests whose webapp must start: a node of the test's own, never whatever holds 11211. */
    private MemcachedServer memcached;

    static Stream<Arguments> badConfigurations() {
        return Stream.of(
                Arguments.of(Map.of("memcachedNodes", "n1:localhost,n2:localhost:11211"),
                        List.of("memcachedNodes", "'n1:localhost'", "id:host:port")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "failoverNodes", "n3"),
                        List.of("failoverNodes", "'n3'", "known ids: n1")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:eleven"),
                        List.of("memcachedNodes", "'eleven'", "number from 1 to 65535")),
                Arguments.of(Map.of("memcachedNodes", ""),
                        List.of("memcachedNodes", "no node given", "id:host:port")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "operationTimeout", "fast",
                        "sessionBackupAsync", "yes"),
                        List.of("2 problems", "operationTimeout: 'fast'", "sessionBackupAsync: 'yes'", "true or false")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "transcoderFactoryClass", "com.example.Nope"),
                        List.of("transcoderFactoryClass", "com.example.Nope",
                                "io.msm.serializers.JavaSerializationTranscoderFactory")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "readTranscoderFactoryClasses",
                        "io.msm.serializers.kryo.KryoTranscoderFactory, com.example.Nope"),
                        List.of("readTranscoderFactoryClasses: class 'com.example.Nope' is not found",
                                "io.msm.serializers.JavaSerializationTranscoderFactory")),
                // The transcoder's and the filter's problems join the attributes' list: one message.
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "operationTimeout", "fast",
                        "transcoderFactoryClass", "com.example.Nope"),
                        List.of("2 problems", "operationTimeout: 'fast'", "transcoderFactoryClass", "com.example.Nope")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "backupQueueSize", "0",
                        "serialFilter", "org.nrg.**;com..example.*"),
                        List.of("2 problems", "backupQueueSize: '0'", "serialFilter", "'com..example.*'")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "encryptionKeys", keyFileWithAShortKey()),
                        List.of("encryptionKeys: line 2 of", "the key of 'k2' holds 5 bytes, not 32", "<keyId>:<base64")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "tls", "true",
                        "tlsTrustStoreFile", "/nonexistent/trust.p12", "tlsKeyStoreFile", keyFileWithAShortKey()),
                        List.of("2 problems", "tlsTrustStoreFile: /nonexistent/trust.p12 cannot be used: no such file",
                                "tlsKeyStoreFile", "not a PKCS12 or JKS store", "tlsKeyStorePassword")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "encryptionKeys", "/nonexistent/msm-keys"),
                        List.of("encryptionKeys: the key file /nonexistent/msm-keys cannot be read")),
                // Relative: in CATALINA_BASE (here the embedded Tomcat's base directory), not the working directory.
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "encryptionKeys", "conf/msm-keys"),
                        List.of("encryptionKeys: the key file /", "tomcat-tomcat1", "/conf/msm-keys cannot be read")),
                // A misspelling must not leave the webapp running without encryption, behind a WARN of Tomcat's.
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "encryptionKey", "/etc/msm-keys"),
                        List.of("encryptionKey: msm's Manager has no such attribute", "did you mean encryptionKeys?")),
                Arguments.of(Map.of("memcachedNodes", "n1:no-such-host.invalid:11211"),
                        List.of("memcachedNodes", "'no-such-host.invalid'", "does not resolve", "IP address")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "tls", "true",
                        "tlsHostnameVerification", "false"),
                        List.of("tlsHostnameVerification", "needs tlsTrustStoreFile")),
                // msm's own typed setter (kept from 2.3.2): a value Tomcat cannot convert stops the start.
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "maxInactiveInterval", "30m"),
                        List.of("maxInactiveInterval: '30m' is not a whole number", "such as 1800")),
                // Tomcat's own filters: Tomcat's digester would only WARN, and every attribute be stored.
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "sessionAttributeNameFilter", "(secret|token",
                        "sessionAttributeValueClassNameFilter", ""),
                        List.of("2 problems", "sessionAttributeNameFilter: '(secret|token' is not a regular expression",
                                "every attribute would be stored", "sessionAttributeValueClassNameFilter: written but empty")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "serialFilter", " "),
                        List.of("serialFilter: written but empty", "remove serialFilter")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "sticky", "false",
                        "persistAuthentication", "false"),
                        List.of("persistAuthentication: 'false'", "logged out", "sticky=\"true\"")),
                // Found but not loadable (a factory left from 2.3.2 without its jars): named, not a stack trace.
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "transcoderFactoryClass",
                        UnloadableFactory.class.getName()),
                        List.of("transcoderFactoryClass: class '" + UnloadableFactory.class.getName()
                                + "' is there but cannot be loaded", "ExceptionInInitializerError",
                                "io.msm.serializers.JavaSerializationTranscoderFactory")),
                Arguments.of(Map.of("memcachedNodes", "n1:localhost:11211", "sticky", "false",
                        "lockExpiration", "2592001", "backupQueueSize", "2000000000"),
                        List.of("2 problems", "lockExpiration: '2592001'", "from 1 to 2592000",
                                "backupQueueSize: '2000000000'", "from 1 to 1000000")));
    }

    /** A class whose loading fails, as one built against jars that are not there. */
    public static final class UnloadableFactory {
        static {
            refuse();
        }

        private static void refuse() {
            throw new IllegalStateException("built against memcached-session-manager's jars");
        }
    }

    private static String keyFileWithAShortKey() {
        try {
            java.nio.file.Path file = java.nio.file.Files.createTempFile("msm-keys", ".txt");
            file.toFile().deleteOnExit();
            java.nio.file.Files.write(file, ("k1:" + java.util.Base64.getEncoder().encodeToString(new byte[32])
                    + "\nk2:c2hvcnQ=\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return file.toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @BeforeEach
    void captureLog() {
        contextLog.addHandler(capture);
    }

    @AfterEach
    void stop() {
        contextLog.removeHandler(capture);
        if (tomcat != null) {
            tomcat.close();
        }
        if (memcached != null) {
            memcached.close();
        }
    }

    @ParameterizedTest
    @MethodSource("badConfigurations")
    void badConfigurationStopsTheWebappWithAMessageSayingWhatToWrite(Map<String, String> attributes,
            List<String> expectedInMessage) {
        tomcat = new TomcatNode("tomcat1").webapp("/app", new LinkedHashMap<>(attributes)).start();

        assertFalse(tomcat.isAvailable("/app"), "the webapp must not start");
        String message = loggedFailure();
        for (String expected : expectedInMessage) {
            assertTrue(message.contains(expected), "message should contain [" + expected + "]:\n" + message);
        }
        assertEquals(404, new Browser().get(tomcat.url("/app/s/get")).status(), "no request reaches the webapp");
    }

    @org.junit.jupiter.api.Test
    void aJvmRouteThatCannotBePartOfASessionIdStopsTheWebappNamingIt() {
        // Sticky ids carry the route; one msm refuses would lose every session at its next request.
        memcached = MemcachedServer.start(); // so that only the route can be what stops it
        tomcat = new TomcatNode("tc:1").webapp("/app", new LinkedHashMap<>(Map.of("memcachedNodes",
                memcached.node("n1")))).start();

        assertFalse(tomcat.isAvailable("/app"), "the webapp must not start");
        String message = loggedFailure();
        assertTrue(message.contains("jvmRoute \"tc:1\""), message);
        assertTrue(message.contains("<Engine jvmRoute="), message);
    }

    /**
     * Tomcat's SingleSignOn valve ends a single sign-on through a listener on the session object of
     * the login's request; a non-sticky webapp has a new object at every request, so a logout would
     * leave the single sign-on alive and the next request logged in again without a password. Such a
     * webapp does not start; a sticky one does, and one without a login method (Tomcat's
     * NonLoginAuthenticator, as XNAT's) starts with a WARN about HttpServletRequest.login().
     */
    @org.junit.jupiter.api.Test
    void aNonStickyWebappWithContainerLoginUnderSingleSignOnDoesNotStart() {
        memcached = MemcachedServer.start();
        Map<String, String> nonSticky = Map.of("memcachedNodes", memcached.node("n1"), "sticky", "false");
        List<String> warned;
        try (LogCapture log = new LogCapture("io.msm")) {
            tomcat = new TomcatNode("tomcat1").withSingleSignOn()
                    .webapp("/app", new LinkedHashMap<>(nonSticky), "FORM")
                    .webapp("/sticky", new LinkedHashMap<>(Map.of("memcachedNodes", memcached.node("n1"))), "FORM")
                    .webapp("/plain", new LinkedHashMap<>(nonSticky))
                    .start();
            warned = log.lines(r -> String.valueOf(r.getMessage()).contains("HttpServletRequest.login()"));
        }

        assertFalse(tomcat.isAvailable("/app"), "the webapp must not start");
        String message = loggedFailure();
        assertTrue(message.contains("SingleSignOn valve (on Host 'localhost')"), message);
        assertTrue(message.contains("write sticky=\"true\", or remove the SingleSignOn valve"), message);
        assertTrue(tomcat.isAvailable("/sticky"), "sticky mode keeps the session object the listener is on");
        assertTrue(tomcat.isAvailable("/plain"), "without a login method, only HttpServletRequest.login() signs on");
        assertEquals(1, warned.size(), "one WARN, for /plain: " + warned);
        assertTrue(warned.get(0).contains("msm for /plain"), warned.get(0));
    }

    /** A context file switched from StandardManager keeps its pathname="": a WARN, not a stop. */
    @org.junit.jupiter.api.Test
    void anAttributeOfTomcatsOwnManagerLeftInTheFileDoesNotStopTheWebapp() {
        memcached = MemcachedServer.start();
        tomcat = new TomcatNode("tomcat1").webapp("/app", new LinkedHashMap<>(Map.of("memcachedNodes",
                memcached.node("n1"), "pathname", ""))).start();

        assertTrue(tomcat.isAvailable("/app"), "the webapp starts");
        Browser user = new Browser();
        user.get(tomcat.url("/app/s/set?name=alice"));
        assertEquals("alice", user.get(tomcat.url("/app/s/get")).get("attr.name"), "its sessions work");
    }

    /**
     * Two Hosts of one Tomcat serve a webapp at one path, and the prefix leaves the Host out: each
     * would read the other's sessions by their ids. The second to start says so; with the Host in the
     * prefix (the default), neither does.
     */
    @org.junit.jupiter.api.Test
    void aPrefixWithoutTheHostWarnsWhenAnotherHostServesTheSamePath() throws Exception {
        memcached = MemcachedServer.start();
        for (String prefix : new String[] {"context", "host,context"}) {
            Map<String, String> attributes = new LinkedHashMap<>(Map.of("memcachedNodes", memcached.node("n1"),
                    "storageKeyPrefix", prefix));
            tomcat = new TomcatNode("tomcat1").webapp("/app", attributes).start();
            try (LogCapture log = new LogCapture("io.msm")) {
                org.apache.catalina.Container engine = tomcat.context("/app").getParent().getParent();
                org.apache.catalina.core.StandardHost other = new org.apache.catalina.core.StandardHost();
                other.setName("other.example");
                engine.addChild(other);
                org.apache.catalina.core.StandardContext twin = new org.apache.catalina.core.StandardContext();
                twin.setName("/app");
                twin.setPath("/app");
                twin.addLifecycleListener(new org.apache.catalina.startup.Tomcat.FixContextListener());
                io.msm.tomcat.MemcachedSessionManager manager = new io.msm.tomcat.MemcachedSessionManager();
                manager.setMemcachedNodes(memcached.node("n1"));
                manager.setStorageKeyPrefix(prefix);
                twin.setManager(manager);
                other.addChild(twin);
                assertTrue(twin.getState().isAvailable(), "the second webapp starts");

                List<String> warned = log.lines(r -> String.valueOf(r.getMessage()).contains("does not name the Host"));
                if (prefix.equals("context")) {
                    assertEquals(1, warned.size(), warned.toString());
                    assertTrue(warned.get(0).contains("Host 'localhost'") && warned.get(0).contains("add host"),
                            warned.get(0));
                } else {
                    assertEquals(List.of(), warned);
                }
            } finally {
                tomcat.close();
                tomcat = null;
            }
        }
    }

    /**
     * Parallel deployment: Tomcat keeps a user on an older version only while its manager holds her
     * session in memory, which non-sticky mode never does between requests. Every request goes to the
     * newest version, which with a prefix naming the version finds no session: the start says so.
     */
    @org.junit.jupiter.api.Test
    void aNonStickyWebappVersionWhosePrefixNamesTheVersionWarnsThatTheNextVersionLogsUsersOut() throws Exception {
        memcached = MemcachedServer.start();
        tomcat = new TomcatNode("tomcat1").webapp("/other", Map.of("memcachedNodes", memcached.node("n1"))).start();
        String[][] cases = {{"false", "host,context", "warn"}, {"false", "host,static:app", ""},
            {"true", "host,context", ""}};
        int version = 1;
        for (String[] c : cases) {
            try (LogCapture log = new LogCapture("io.msm")) {
                org.apache.catalina.core.StandardContext versioned = new org.apache.catalina.core.StandardContext();
                versioned.setName("/app##" + version);
                versioned.setPath("/app");
                versioned.setWebappVersion(String.valueOf(version++));
                versioned.addLifecycleListener(new org.apache.catalina.startup.Tomcat.FixContextListener());
                io.msm.tomcat.MemcachedSessionManager manager = new io.msm.tomcat.MemcachedSessionManager();
                manager.setMemcachedNodes(memcached.node("n1"));
                manager.setSticky(c[0]);
                manager.setStorageKeyPrefix(c[1]);
                versioned.setManager(manager);
                tomcat.context("/other").getParent().addChild(versioned);
                assertTrue(versioned.getState().isAvailable(), "the version starts");

                List<String> warned = log.lines(r -> String.valueOf(r.getMessage()).contains("parallel deployment"));
                if (c[2].equals("warn")) {
                    assertEquals(1, warned.size(), warned.toString());
                    assertTrue(warned.get(0).contains("logs every user out") && warned.get(0).contains("static:"),
                            warned.get(0));
                } else {
                    assertEquals(List.of(), warned, "sticky=" + c[0] + ", storageKeyPrefix=" + c[1]);
                }
            }
        }
    }

    /**
     * A cookie shared by several webapps (sessionCookiePath="/"): Tomcat keeps its id for another
     * webapp's new session only if some manager of the Host finds the session, which a non-sticky one
     * does not between requests. The start says so; sticky mode finds it, and needs no line.
     */
    @org.junit.jupiter.api.Test
    void aNonStickyWebappWithTheSharedCookiePathWarnsThatOtherWebappsLogItsUsersOut() throws Exception {
        memcached = MemcachedServer.start();
        tomcat = new TomcatNode("tomcat1").webapp("/other", Map.of("memcachedNodes", memcached.node("n1"))).start();
        String[][] cases = {{"false", "/", "warn"}, {"true", "/", ""}, {"false", null, ""}};
        int n = 0;
        for (String[] c : cases) {
            try (LogCapture log = new LogCapture("io.msm")) {
                org.apache.catalina.core.StandardContext context = new org.apache.catalina.core.StandardContext();
                context.setName("/shared" + n);
                context.setPath("/shared" + n++);
                context.setSessionCookiePath(c[1]);
                context.addLifecycleListener(new org.apache.catalina.startup.Tomcat.FixContextListener());
                io.msm.tomcat.MemcachedSessionManager manager = new io.msm.tomcat.MemcachedSessionManager();
                manager.setMemcachedNodes(memcached.node("n1"));
                manager.setSticky(c[0]);
                context.setManager(manager);
                tomcat.context("/other").getParent().addChild(context);
                assertTrue(context.getState().isAvailable(), "the webapp starts");

                List<String> warned = log.lines(r -> String.valueOf(r.getMessage()).contains("sessionCookiePath"));
                if (c[2].equals("warn")) {
                    assertEquals(1, warned.size(), warned.toString());
                    assertTrue(warned.get(0).contains("logs its user out") && warned.get(0).contains("sticky=\"true\""),
                            warned.get(0));
                } else {
                    assertEquals(List.of(), warned, "sticky=" + c[0] + ", sessionCookiePath=" + c[1]);
                }
            }
        }
    }

    /** The messages of the exception chain Tomcat logged when the manager failed to start. */
    private String loggedFailure() {
        StringBuilder sb = new StringBuilder();
        synchronized (records) {
            for (LogRecord r : records) {
                for (Throwable t = r.getThrown(); t != null; t = t.getCause()) {
                    sb.append(t.getMessage()).append('\n');
                }
            }
        }
        assertFalse(sb.length() == 0, "Tomcat logged no failure for the context");
        return sb.toString();
    }
}

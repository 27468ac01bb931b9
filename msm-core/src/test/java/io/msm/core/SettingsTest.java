package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Operators only see these messages in a log: each must name the attribute, the bad value and what to write. */
class SettingsTest {

    private static ConfigurationException rejected(Map<String, String> raw) {
        return assertThrows(ConfigurationException.class, () -> Settings.parse(raw));
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), () -> "message should mention '" + part + "':\n" + message);
        }
    }

    @Test
    void entryWithoutPortAmongSeveralNamesAttributeEntryAndForm() {
        var e = rejected(Map.of("memcachedNodes", "n1:localhost,n2:h:2"));

        assertEquals(1, e.problems().size(), e.getMessage());
        assertMentions(e.getMessage(), "memcachedNodes", "'n1:localhost'", "id:host:port");
    }

    @Test
    void nonNumericPortNamesPortAndEntry() {
        var e = rejected(Map.of("memcachedNodes", "n1:h:abc"));

        assertMentions(e.getMessage(), "memcachedNodes", "'abc'", "'n1:h:abc'", "id:host:port");
    }

    @Test
    void emptyMemcachedNodesSaysWhatToWrite() {
        var e = rejected(Map.of("memcachedNodes", "  "));

        assertMentions(e.getMessage(), "memcachedNodes", "id:host:port");
    }

    @Test
    void failoverNodeThatIsNotANodeIdIsNamedWithTheKnownIds() {
        var e = rejected(Map.of("memcachedNodes", "n1:h:1,n2:h:2", "failoverNodes", "n3"));

        assertMentions(e.getMessage(), "failoverNodes", "'n3'", "n1, n2");
    }

    @Test
    void everyNodeBeingFailoverIsRejected() {
        var e = rejected(Map.of("memcachedNodes", "n1:h:1,n2:h:2", "failoverNodes", "n1,n2"));

        assertMentions(e.getMessage(), "failoverNodes", "at least one regular node");
    }

    @Test
    void allBadAttributesAreReportedInOneException() {
        var e = rejected(Map.of(
                "memcachedNodes", "n1:h:abc",
                "operationTimeout", "fast",
                "sessionBackupAsync", "yes"));

        assertEquals(3, e.problems().size(), e.getMessage());
        assertMentions(e.getMessage(), "3 problems",
                "operationTimeout", "'fast'", "milliseconds",
                "sessionBackupAsync", "'yes'", "true or false",
                "memcachedNodes", "'n1:h:abc'");
    }

    @Test
    void singleHostPortIsAcceptedAsNodeN1() throws Exception {
        Settings s = Settings.parse(Map.of("memcachedNodes", "localhost:11211"));

        List<MemcachedNode> nodes = s.nodes();
        assertEquals(1, nodes.size());
        MemcachedNode n = nodes.get(0);
        assertAll(
                () -> assertEquals("n1", n.id()),
                () -> assertEquals("localhost", n.host()),
                () -> assertEquals(11211, n.port()),
                () -> assertFalse(n.isFailover()));
    }

    @Test
    void failoverNodeIsMarked() throws Exception {
        Settings s = Settings.parse(Map.of("memcachedNodes", "n1:h:1 n2:h:2", "failoverNodes", "n2"));

        assertFalse(s.nodes().get(0).isFailover());
        assertTrue(s.nodes().get(1).isFailover());
    }

    @Test
    void defaultsApplyWhenAttributesAreAbsent() throws Exception {
        Settings s = Settings.parse(Map.of("memcachedNodes", "n1:h:1"));

        assertAll(
                () -> assertTrue(s.backupAsync()),
                () -> assertEquals(1000, s.operationTimeoutMillis()),
                () -> assertEquals("host,context", s.storageKeyPrefix()),
                () -> assertTrue(s.sticky()),
                () -> assertTrue(s.enabled()));
    }

    @Test
    void describeNeverShowsThePassword() throws Exception {
        Map<String, String> raw = new HashMap<>();
        raw.put("memcachedNodes", "n1:h:1");
        raw.put("username", "msm");
        raw.put("password", "s3cret-Pa55");
        Settings s = Settings.parse(raw);

        String described = s.describe().toString();
        assertFalse(described.contains("s3cret-Pa55"), described);
        assertEquals("****", s.describe().get("password"));
        assertEquals("s3cret-Pa55", s.password()); // still handed to SASL
    }

    @Test
    void aFurtherCheckJoinsTheSameListAsTheAttributes() {
        Map<String, String> raw = Map.of("memcachedNodes", "n1:h:1", "operationTimeout", "fast");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Settings.parse(raw,
                (settings, errors) -> errors.add("transcoderFactoryClass: class 'com.example.Nope' is not found")));

        assertEquals(2, e.problems().size(), e.getMessage());
        assertMentions(e.getMessage(), "2 problems", "operationTimeout: 'fast'", "com.example.Nope");
    }

    /**
     * XNAT asks for the session at every request, static files included (its password-expiry filter):
     * an ignored request there would make a new session, whose cookie logs the user out. Its examples
     * ignore no path.
     */
    @Test
    void theXnatExamplesIgnoreNoPath() throws Exception {
        java.nio.file.Path dir = java.nio.file.Paths.get("..", "conf-examples", "tomcat");
        int checked = 0;
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(dir)) {
            for (java.nio.file.Path file : (Iterable<java.nio.file.Path>) files::iterator) {
                if (file.getFileName().toString().startsWith("xnat")) {
                    String text = new String(java.nio.file.Files.readAllBytes(file), java.nio.charset.StandardCharsets.UTF_8);
                    assertFalse(text.contains("requestUriIgnorePattern"), file.toString());
                    checked++;
                }
            }
        }
        assertTrue(checked >= 5, "the examples were found: " + checked);
    }

    @Test
    void twoNodeIdsForOneMemcachedAreNamed_sinceABackupCopyThereGoesWithTheSession() throws Exception {
        Settings slip = Settings.parse(Map.of("memcachedNodes", "n1:mc1:11211,n2:mc1:11211", "sticky", "false"));
        assertEquals(1, slip.risks().size(), slip.risks().toString());
        assertMentions(slip.risks().get(0), "memcachedNodes", "n1 and n2", "mc1:11211", "its own memcached");
        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:mc1:11211,n2:mc2:11211")).risks().isEmpty());
    }

    @Test
    void aLockWaitShorterThanThreeOperationTimeoutsIsNamedWithWhatToWrite() throws Exception {
        Settings risky = Settings.parse(Map.of("memcachedNodes", "n1:h:1 n2:h:2", "sticky", "false",
                "lockWaitTimeout", "2000", "operationTimeout", "1000"));
        assertEquals(1, risky.risks().size(), risky.risks().toString());
        assertMentions(risky.risks().get(0), "lockWaitTimeout=2000 ms", "operationTimeout", "lockWaitTimeout=\"3000\"");

        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:h:1 n2:h:2", "sticky", "false")).risks().isEmpty(),
                "the defaults: 10 s and 1 s");
        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:h:1 n2:h:2", "sticky", "false", "lockingMode", "none",
                "lockWaitTimeout", "2000")).risks().isEmpty(), "no locks: nothing waits for them");
        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:h:1", "operationTimeout", "5000")).risks().isEmpty(),
                "sticky sessions take no locks");
    }

    @Test
    void attributesWithoutEffectInTheChosenModeAreNamedWithTheReason() throws Exception {
        Settings nonSticky = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "sticky", "false",
                "sessionBackupAsync", "false", "sessionBackupTimeout", "200"));
        assertEquals(1, nonSticky.withoutEffect().size(), nonSticky.withoutEffect().toString());
        assertMentions(nonSticky.withoutEffect().toString(), "sessionBackupAsync", "sticky=\"false\"");
        assertTrue(!nonSticky.withoutEffect().toString().contains("sessionBackupTimeout"),
                "bounds the wait for the backup copy in non-sticky mode too");

        Settings disabled = Settings.parse(Map.of("enabled", "false", "memcachedNodes", "n1:h:1"));
        assertMentions(disabled.withoutEffect().toString(), "memcachedNodes", "enabled=\"false\"");

        Settings sticky = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "sessionBackupAsync", "false"));
        assertTrue(sticky.withoutEffect().isEmpty(), sticky.withoutEffect().toString());
    }

    @Test
    void readTranscoderFactoryClassesIsAListWithoutTheWriterAndWithoutRepeats() throws Exception {
        String java = Settings.DEFAULT_TRANSCODER_FACTORY;
        String kryo = "io.msm.serializers.kryo.KryoTranscoderFactory";
        assertEquals(List.of(), Settings.parse(Map.of("memcachedNodes", "n1:h:1")).readTranscoderFactoryClasses(),
                "by default a Tomcat reads the frames of its own transcoder only");

        Settings s = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "readTranscoderFactoryClasses",
                " " + kryo + " ,," + java + "," + kryo));
        assertEquals(List.of(kryo), s.readTranscoderFactoryClasses());
        assertEquals(1, s.withoutEffect().size(), s.withoutEffect().toString());
        assertMentions(s.withoutEffect().toString(), "readTranscoderFactoryClasses", java, "transcoderFactoryClass");
        assertMentions(s.describe().toString(), kryo);
        assertMentions(s.risks().toString(), "readTranscoderFactoryClasses", kryo, "remove it once");
    }

    /**
     * An unset variable in a context template leaves an attribute empty. Read as absent, it turned
     * encryption, TLS or SASL off, or made TLS trust the JVM's public CAs, without a word.
     */
    @Test
    void anEmptyAttributeThatProtectsSessionsStopsTheStartInsteadOfTurningTheProtectionOff() {
        for (String name : List.of("encryptionKeys", "tls", "tlsTrustStoreFile", "tlsTrustStorePassword",
                "tlsKeyStoreFile", "tlsKeyStorePassword", "tlsHostnameVerification", "username", "password")) {
            Map<String, String> raw = new HashMap<>(Map.of("memcachedNodes", "n1:h:1"));
            raw.put(name, name.endsWith("assword") ? "" : " "); // a password is taken as written
            if (name.startsWith("tls") && !name.equals("tls")) {
                raw.put("tls", "true");
            }
            var e = rejected(raw);
            assertMentions(e.getMessage(), name + ": written but empty", "write ");
        }
    }

    /**
     * A trust store, key store or hostname check written without tls="true" (left out, or a template's
     * variable that turned it off): starting would send sessions and the SASL password in clear, the
     * opposite of what the operator wrote. It was a WARN.
     */
    @Test
    void aTlsAttributeWithoutTlsOnStopsTheStartInsteadOfReachingMemcachedInClear() throws Exception {
        for (String name : List.of("tlsTrustStoreFile", "tlsTrustStorePassword", "tlsKeyStoreFile",
                "tlsKeyStorePassword", "tlsHostnameVerification")) {
            for (String tls : new String[] {null, "false"}) {
                Map<String, String> raw = new HashMap<>(Map.of("memcachedNodes", "n1:h:1", name, "x"));
                if (tls != null) {
                    raw.put("tls", tls);
                }
                var e = rejected(raw);
                assertMentions(e.getMessage(), name + ": set while tls is not \"true\"", "without TLS",
                        "write tls=\"true\"");
            }
        }
        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:h:1", "enabled", "false", "tlsTrustStoreFile", "x"))
                .withoutEffect().stream().anyMatch(n -> n.startsWith("tlsTrustStoreFile")), "msm off: only a WARN");
    }

    /** A prefix without the webapp lets a webapp on the same nodes read this one's sessions by their ids. */
    @Test
    void aStorageKeyPrefixThatDoesNotNameTheWebappIsARiskNamedAtStart() throws Exception {
        for (String spec : List.of("webappVersion", "host", "host.hash,webappVersion")) {
            Settings s = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "storageKeyPrefix", spec));
            assertMentions(s.risks().toString(), "storageKeyPrefix=\"" + spec + "\"", "add context");
        }
        for (String spec : List.of("host,context", "context.hash", "static:xnat", "host,webappVersion,context")) {
            Settings s = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "storageKeyPrefix", spec));
            assertTrue(s.risks().isEmpty(), spec + ": " + s.risks());
        }
        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:h:1")).risks().isEmpty(), "the default names it");
    }

    @Test
    void anIpv6AddressIsWrittenInBrackets_asInAUrl() throws Exception {
        Settings s = Settings.parse(Map.of("memcachedNodes", "n1:[::1]:11211, n2:[fd00::5]:11212"));
        assertEquals("::1", s.nodes().get(0).host());
        assertEquals(11211, s.nodes().get(0).port());
        assertEquals("fd00::5", s.nodes().get(1).host());
        assertEquals("n2 ([fd00::5]:11212)", s.nodes().get(1).toString());
        Settings single = Settings.parse(Map.of("memcachedNodes", "[::1]:11211"));
        assertEquals("n1", single.nodes().get(0).id());
        assertEquals("::1", single.nodes().get(0).host());

        var e = rejected(Map.of("memcachedNodes", "n1:[::1:11211"));
        assertMentions(e.getMessage(), "memcachedNodes", "'n1:[::1:11211'", "in brackets");
    }

    @Test
    void aStrayCommaInFailoverNodesIsNoEntry_asInMemcachedNodes() throws Exception {
        Settings s = Settings.parse(Map.of("memcachedNodes", "n1:h:1,n2:h:2", "failoverNodes", ",n2,"));
        assertTrue(s.nodes().get(1).isFailover());
    }

    @Test
    void uriPatternWithNothingAfterItIsRefused_itWouldLockNoRequest() {
        var e = rejected(Map.of("memcachedNodes", "n1:h:1", "sticky", "false", "lockingMode", "uriPattern:"));
        assertMentions(e.getMessage(), "lockingMode", "no pattern", "none or all");
    }

    /** Written "uriPattern: /xnat/app/.*": the blank would be part of the pattern, which then matches no URI. */
    @Test
    void uriPatternIsReadWithoutTheBlanksAroundIt() throws Exception {
        Settings s = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "sticky", "false", "lockingMode",
                "uriPattern:  /xnat/app/.* "));
        assertEquals("uriPattern:/xnat/app/.*", s.lockingMode().toString());
        assertTrue(s.lockingMode().pattern.matcher("/xnat/app/action").matches());
    }

    /** Read as absent, an empty filter would let every class, or every attribute, into memcached. */
    @Test
    void filtersWrittenButEmptyStopTheStart() {
        for (String filter : new String[] {"serialFilter", "sessionAttributeFilter"}) {
            var e = rejected(Map.of("memcachedNodes", "n1:h:1", filter, " "));
            assertMentions(e.getMessage(), filter + ": written but empty", "remove " + filter);
        }
    }

    /** Seconds for milliseconds, or the other way round: the start says so, and what to write. */
    @Test
    void timesThatLookWrittenInTheWrongUnitAreNamedAtStart() throws Exception {
        Settings seconds = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "operationTimeout", "2"));
        assertEquals(1, seconds.risks().size(), seconds.risks().toString());
        assertMentions(seconds.risks().get(0), "operationTimeout=2 ms", "operationTimeout=\"2000\"");
        Settings millis = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "sticky", "false", "lockExpiration",
                "30000"));
        assertEquals(1, millis.risks().size(), millis.risks().toString());
        assertMentions(millis.risks().get(0), "lockExpiration=30000 s", "lockExpiration=\"30\"");
        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:h:1", "sticky", "false", "lockExpiration", "3600",
                "operationTimeout", "10")).risks().isEmpty(), "an hour and 10 ms are meant so");
    }

    @Test
    void sessionBackupTimeoutIsWithoutEffectForAsynchronousStickyBackups() throws Exception {
        Settings async = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "sessionBackupTimeout", "500"));
        assertEquals(1, async.withoutEffect().size(), async.withoutEffect().toString());
        assertMentions(async.withoutEffect().get(0), "sessionBackupTimeout", "sessionBackupAsync=\"false\"");
        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:h:1", "sessionBackupAsync", "false",
                "sessionBackupTimeout", "500")).withoutEffect().isEmpty(), "it bounds a synchronous backup's wait");
    }

    /** Tomcat leaves ${name} as written when the property is not set: sent as the password, every node refused it. */
    @Test
    void aPropertyTomcatDidNotReplaceStopsTheStartNamingIt() {
        var e = rejected(Map.of("memcachedNodes", "n1:h:1", "username", "xnat", "password",
                "${msm.memcached.password}"));
        assertMentions(e.getMessage(), "password", "'msm.memcached.password'", "catalina.properties");
    }

    /** A password whose own characters include "${": taken as written, and never quoted in a message. */
    @Test
    void aPasswordThatContainsADollarBraceIsTakenAsWritten() throws Exception {
        Settings settings = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "username", "xnat", "password",
                "ab${cd}ef"));
        assertEquals("ab${cd}ef", settings.password());
    }

    @Test
    void anUnsetPropertyIsNoErrorWhileMsmIsOff() throws Exception {
        Settings off = Settings.parse(Map.of("enabled", "false", "memcachedNodes", "${msm.nodes}"));
        assertFalse(off.enabled());
    }

    @Test
    void backupThreadCountHasABound() {
        var e = rejected(Map.of("memcachedNodes", "n1:h:1", "backupThreadCount", "10000"));
        assertMentions(e.getMessage(), "backupThreadCount", "from 1 to 256");
    }

    /** The trust store named as the key store by mistake: no client certificate would ever be sent. */
    @Test
    void aKeyStoreWithoutAPrivateKeyStopsTheStart(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = dir.resolve("certificate-only.p12");
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(file)) {
            store.store(out, "changeit".toCharArray());
        }
        var e = rejected(Map.of("memcachedNodes", "n1:h:1", "tls", "true", "tlsKeyStoreFile", file.toString(),
                "tlsKeyStorePassword", "changeit"));
        assertMentions(e.getMessage(), "tlsKeyStoreFile", "holds no private key", "tlsKeyStorePassword");
    }

    @Test
    void aTrustStoreWithoutACertificateStopsTheStart_everyHandshakeWouldFail(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("empty.p12");
        java.security.KeyStore empty = java.security.KeyStore.getInstance("PKCS12");
        empty.load(null, null);
        try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(file)) {
            empty.store(out, "changeit".toCharArray());
        }
        var e = rejected(Map.of("memcachedNodes", "n1:h:1", "tls", "true", "tlsTrustStoreFile", file.toString(),
                "tlsTrustStorePassword", "changeit"));
        assertMentions(e.getMessage(), "tlsTrustStoreFile", "holds no certificate", "keytool -importcert");
    }
}

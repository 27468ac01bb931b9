package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * memcached-session-manager 2.3.2's bytes, keys and configuration, against what its own classes
 * wrote and computed (the vectors were made by running 2.3.2's TranscoderService and
 * StorageKeyFormat): MigrationFromMsm2IT runs its real jars end to end.
 */
class Msm2CompatibilityTest {
    /** 2.3.2's session fields for creation 0x0102030405060708, last access 1700000000000, 1800 s, not new, valid. */
    private static final String SESSION_FIELDS = "00 02 00 4b 01 02 03 04 05 06 07 08 00 00 01 8b"
            + " cf e5 68 00 00 00 07 08 30 31 00 00 01 8b cf e5"
            + " 6b e8 00 00 01 8b cf e5 6f d0 00 17 41 42 43 44"
            + " 45 46 30 31 32 33 34 35 36 37 38 39 2d 6e 31 2e"
            + " 74 63 31 00 00 00 00 00 00 00 00";

    private static byte[] hex(String text) {
        String[] parts = text.trim().split(" ");
        byte[] b = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            b[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return b;
    }

    @Test
    void sessionFieldsDecodeAndEncodeAs232WroteThem() throws Exception {
        byte[] attributes = {(byte) 0xac, (byte) 0xed, 0, 5};
        byte[] written = concat(hex(SESSION_FIELDS), attributes);

        Msm2Frame f = Msm2Frame.decode(written);

        assertEquals(0x0102030405060708L, f.creationTime);
        assertEquals(1700000000000L, f.lastAccessedTime);
        assertEquals(1700000001000L, f.thisAccessedTime);
        assertEquals(1800, f.maxInactiveInterval);
        assertTrue(f.valid);
        assertEquals("ABCDEF0123456789-n1.tc1", f.id);
        assertNull(f.authType);
        assertEquals(0, f.principal.length);
        assertArrayEquals(attributes, f.attributes);
        assertArrayEquals(written, f.encode(1700000002000L), "what 2.3.2 wrote, byte for byte");
    }

    /**
     * msm writes 2.3.2's copy again only at a change or once per refresh interval (a tenth of the
     * timeout, at most 60 s), so the access time in it lags by up to that: a user idle for less than the
     * timeout is not taken for expired when another Tomcat reads that copy after a failover.
     */
    @Test
    void a232CopyLaggingByLessThanTheRefreshIntervalIsNotExpired_oneBeyondIs() throws Exception {
        FakeTime time = new FakeTime(1_700_000_000_000L);
        Msm2Copies copies = new Msm2Copies(Settings.Compatibility.MSM2, new Msm2Format("", NO_ATTRIBUTES), "msm_",
                new Statistics(), new Expiry(time), new OncePerMinute(time));
        SessionId id = SessionId.of("ABCDEF0123456789ABCDEF0123456789", "n1", null);
        long written = time.millis();
        byte[] copy = new Msm2Frame(written, written, 1800, true, written, id.toString(), null, new byte[0],
                new byte[0]).encode(written);

        time.advance((1800 + 30) * 1000L); // the last refresh may have come 60 s after the last access
        assertTrue(copies.decode(id, "n1", copy) != null, "within the timeout and the refresh interval");
        time.advance(31_000L);
        assertNull(copies.decode(id, "n1", copy), "idle past both");
    }

    /**
     * A session holding an attribute this Tomcat cannot read (a rolling upgrade of the webapp) has no
     * copy in 2.3.2's format, which would drop it: msm's own copy, which carries it, is the one read.
     */
    @Test
    void aSessionWithAnAttributeThisTomcatCannotReadIsNotWrittenIn232sFormat() {
        FakeTime time = new FakeTime(1_700_000_000_000L);
        Statistics statistics = new Statistics();
        Msm2Copies copies = new Msm2Copies(Settings.Compatibility.MSM2, new Msm2Format("", NO_ATTRIBUTES), "msm_",
                statistics, new Expiry(time), new OncePerMinute(time));
        SessionId id = SessionId.of("ABCDEF0123456789ABCDEF0123456789", "n1", null);
        SessionContent content = new SessionContent(Map.of("user", "alice"), null,
                Map.of("cart", new UnreadAttribute(1, new byte[] {1, 2, 3})));

        assertSame(Msm2Copies.UNWRITABLE, copies.encode(new SessionSnapshot(id, 1, 1, 1800, null, content)));
        assertEquals(1, statistics.get(Statistics.Counter.MSM2_COPIES_FAILED));
        assertNotSame(Msm2Copies.UNWRITABLE, copies.encode(new SessionSnapshot(id, 1, 1, 1800, null,
                new SessionContent(Map.of("user", "alice"), null))));
    }

    private static final Msm2Serialization NO_ATTRIBUTES = new Msm2Serialization() {
        @Override
        public byte[] writeAttributes(Map<String, Object> attributes) {
            return new byte[0];
        }

        @Override
        public Map<String, Object> readAttributes(byte[] data) {
            return new HashMap<>();
        }

        @Override
        public byte[] writePrincipal(java.security.Principal principal) {
            return new byte[0];
        }

        @Override
        public java.security.Principal readPrincipal(byte[] data) {
            return null;
        }
    };

    @Test
    void brokenOrForeignBytesAreAnError_neverAnAttributeRead() {
        byte[] good = concat(hex(SESSION_FIELDS), new byte[0]);
        byte[] truncated = java.util.Arrays.copyOf(good, 60);
        byte[] idPastHeader = good.clone();
        idPastHeader[43] = 0x7f; // id length beyond the header
        byte[] ping = {1}; // 2.3.2 leaves such a value under a session key for a few seconds
        for (byte[] bad : new byte[][] {truncated, idPastHeader, ping, "ms...".getBytes()}) {
            assertThrows(FrameException.class, () -> Msm2Frame.decode(bad));
        }
        assertFalse(Msm2Frame.looksLike(new SessionFrame(1, 1, 1, 1, null, new byte[0]).encode()),
                "msm's own frames are told apart by their first bytes");
    }

    @Test
    void anAuthTypeWithout232sNumberIsRefusedWhenWritten() {
        Msm2Frame spnego = new Msm2Frame(1, 1, 60, true, 1, "A-n1", "SPNEGO", new byte[0], new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> spnego.encode(1));
        assertEquals(4, Msm2Frame.authTypeNumber("FORM"));
    }

    @Test
    void keyPrefixesAre232s() {
        assertEquals("e93c085e:45e6345f:001_", StorageKeyPrefix.buildMsm2("host.hash,context.hash,webappVersion", "hst",
                "ctxt", "001"));
        assertEquals("", StorageKeyPrefix.buildMsm2("webappVersion", "localhost", "/xnat", ""), "its default: no prefix");
        assertEquals("x_", StorageKeyPrefix.buildMsm2("static:x,context", "localhost", "", ""), "ROOT's context is empty");
        assertEquals("e3b0c442_", StorageKeyPrefix.buildMsm2("context.hash", "localhost", "", ""));
        assertEquals("localhost:/app_", StorageKeyPrefix.buildMsm2("host,context", "localhost", "/app", ""));
        // msm's own prefix differs but for one part (static:x gives both x_: one key, Msm2Copies.sharesKey).
        assertEquals("localhost_/app_", StorageKeyPrefix.build("host,context", "localhost", "/app", ""));
        assertEquals("49960de5_", StorageKeyPrefix.build("host.hash", "localhost", "/app", ""));
    }

    @Test
    void compatibilityTakes232sDefaultsUnlessWritten() throws Exception {
        Settings s = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "compatibility", "msm2"));
        assertEquals(Settings.Compatibility.MSM2, s.compatibility());
        assertFalse(s.binaryProtocol(), "2.3.2's text protocol");
        assertEquals("webappVersion", s.msm2StorageKeyPrefix());
        assertEquals("host,context", s.storageKeyPrefix(), "msm's own keys keep webapps apart");

        Settings written = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "compatibility", "msm2-read",
                "memcachedProtocol", "binary", "storageKeyPrefix", "static:xnat"));
        assertTrue(written.binaryProtocol());
        assertEquals("static:xnat", written.msm2StorageKeyPrefix());
        assertEquals(Settings.Compatibility.MSM2_READ, written.compatibility());
        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:h:1")).binaryProtocol(), "msm's default without it");
    }

    @Test
    void compatibilityRefusesWhatWouldLoseSessionsOrProtection() {
        assertMentions(rejected("compatibility", "msm3"), "compatibility: 'msm3'", "write msm2", "msm2-read");
        assertMentions(rejected("compatibility", "msm2", "sticky", "false"), "compatibility:", "sticky sessions");
        assertMentions(rejected("compatibility", "msm2", "encryptionKeys", "/nonexistent/keys"), "compatibility:",
                "in clear");
        assertMentions(rejected("compatibility", "msm2", "username", "u", "password", "p"), "username:",
                "2.3.2 ignored username", "memcachedProtocol=\"binary\"");
    }

    @Test
    void attributesOf232TakeTheirMeaning() throws Exception {
        Settings s = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "lockingMode", "all", "lockExpiration", "5",
                "copyCollectionsForSerialization", "true", "customConverter", "com.example.Conv",
                "sessionAttributeFilter", "^(userName|sessionHistory)$", "storageKeyPrefix", "host.hash,context.hash"));
        String none = s.withoutEffect().toString();
        assertMentions(none, "lockingMode", "lockExpiration", "non-sticky", "copyCollectionsForSerialization",
                "customConverter");
        assertEquals("^(userName|sessionHistory)$", s.sessionAttributeFilter().pattern());
        assertMentions(rejected("sessionAttributeFilter", "(unclosed"), "sessionAttributeFilter: '(unclosed'");
    }

    private static String rejected(String... pairs) {
        Map<String, String> raw = new HashMap<>();
        raw.put("memcachedNodes", "n1:h:1");
        for (int i = 0; i < pairs.length; i += 2) {
            raw.put(pairs[i], pairs[i + 1]);
        }
        return assertThrows(ConfigurationException.class, () -> Settings.parse(raw)).getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), () -> "should mention '" + part + "':\n" + message);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aSingleHostPortNodesIdsNameNoNode() throws Exception {
        Settings single = Settings.parse(Map.of("memcachedNodes", "mc1:11211", "compatibility", "msm2"));
        assertEquals("n1", single.implicitNode());
        assertFalse(single.nodeInNewIds(), "2.3.2's ids, without -n1");
        assertTrue(Settings.parse(Map.of("memcachedNodes", "mc1:11211")).nodeInNewIds(), "msm's own without it");
        assertNull(Settings.parse(Map.of("memcachedNodes", "n1:mc1:11211", "compatibility", "msm2")).implicitNode(),
                "a node written with its id is named in ids, as in 2.3.2");

        SessionId id = SessionId.parse("ABCDEF0123456789ABCDEF0123456789.tomcat1", "n1");
        assertEquals("n1", id.nodeId());
        assertEquals("tomcat1", id.jvmRoute());
        assertEquals("ABCDEF0123456789ABCDEF0123456789.tomcat2", id.withRoute("tomcat2").toString());
        assertEquals("ABCDEF0123456789ABCDEF0123456789-n2.tomcat1", id.withNode("n2").toString());
        assertEquals("…6789.tomcat1", id.masked());
        assertNull(SessionId.parse("ABCDEF0123456789ABCDEF0123456789.tomcat1"), "not without a single host:port");
        assertEquals("n2", SessionId.parse("ABCDEF0123456789ABCDEF0123456789-n2.tomcat1", "n1").nodeId(),
                "an id naming its node keeps it");
    }
}

package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * encryptionKeys on the in-memory store: what memcached holds gives away neither content nor
 * session ids, and nothing written there by someone else is read as a session.
 */
class EncryptionTest {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
    /** ID with a route, as sticky mode's ids have. */
    private static final SessionId STICKY_ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", "tomcat1");
    private static final SessionId OTHER = SessionId.of("0123456789ABCDEF0123456789ABCDEF", "n1", null);
    private static final String MARKER = "PATIENT-MARKER-7731";

    @TempDir
    Path dir;
    private final List<EngineHarness> tomcats = new ArrayList<>();

    @AfterEach
    void stop() {
        tomcats.forEach(EngineHarness::close);
    }

    private static String newKey(String id) {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return id + ":" + Base64.getEncoder().encodeToString(key);
    }

    private String keyFile(String name, String... lines) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file.toString();
    }

    private EngineHarness tomcat(String... attributes) throws Exception {
        List<String> all = new ArrayList<>(List.of("sticky", "false", "lockingMode", "none"));
        all.addAll(List.of(attributes));
        EngineHarness t = tomcats.isEmpty() ? EngineHarness.start(all.toArray(new String[0]))
                : tomcats.get(0).secondTomcat(all.toArray(new String[0]));
        tomcats.add(t);
        return t;
    }

    @Test
    void readingUnencryptedSessionsIsNamedAtStartAsAWindowToClose() throws Exception {
        String file = keyFile("keys", newKey("k1"));
        Settings migrating = Settings.parse(Map.of("memcachedNodes", "n1:h:1", "encryptionKeys", file,
                "readUnencryptedSessions", "true"));
        assertEquals(1, migrating.risks().size(), migrating.risks().toString());
        assertTrue(migrating.risks().get(0).contains("remove it once"),
                migrating.risks().get(0));
        assertTrue(Settings.parse(Map.of("memcachedNodes", "n1:h:1",
                "encryptionKeys", file)).risks().isEmpty());
    }

    /** Some editors start a UTF-8 file with a byte order mark: line 1 was then "not a key id" as it read k1:... */
    @Test
    void aKeyFileThatStartsWithAByteOrderMarkIsRead() throws Exception {
        String file = keyFile("keys", "\uFEFF" + newKey("k1"));
        List<String> errors = new ArrayList<>();
        assertNotNull(EncryptionKeys.read("encryptionKeys", file, errors), errors.toString());
        assertEquals(List.of(), errors);
    }

    /** As someone who can write to memcached, or a Tomcat of another release, would. */
    private static void changeEverySealedCopy(EngineHarness t, java.util.function.Consumer<byte[]> change) {
        for (String node : new String[] {"n1", "n2"}) {
            for (String key : t.store.keys(node)) {
                byte[] value = t.store.peek(node, key);
                if (FrameCipher.isSealed(value)) {
                    change.accept(value);
                    t.store.put(node, key, value);
                }
            }
        }
    }

    private static void store(EngineHarness t, SessionId id, String value) {
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("user");
        t.engine.nonSticky().store(EngineHarness.snapshot(id, t.time.millis(), Map.of("user", value)),
                new SessionState(), changes);
    }

    private static String read(EngineHarness t, SessionId id) {
        SessionSnapshot s = t.engine.nonSticky().open(id, new SessionState(), false);
        return s == null ? null : (String) s.content().attributes().get("user");
    }

    /** Every key and value on both nodes, as text. */
    private static String dump(EngineHarness t) {
        StringBuilder sb = new StringBuilder();
        for (String node : new String[] {"n1", "n2"}) {
            for (String key : t.store.keys(node)) {
                sb.append(key).append(" = ").append(new String(t.store.peek(node, key), StandardCharsets.ISO_8859_1))
                        .append('\n');
            }
        }
        return sb.toString();
    }

    @Test
    void memcachedHoldsNeitherTheContentNorTheSessionId_andWithoutEncryptionItHoldsBoth() throws Exception {
        EngineHarness clear = EngineHarness.start("sticky", "false", "lockingMode", "all");
        tomcats.add(clear);
        store(clear, ID, MARKER);
        clear.engine.nonSticky().open(ID, new SessionState(), true); // leaves a lock key too
        String clearDump = dump(clear);
        assertTrue(clearDump.contains(MARKER), "the test can see content in clear");
        assertTrue(clearDump.contains(ID.random()), "the test can see ids in clear");

        EngineHarness t = EngineHarness.start("sticky", "false", "lockingMode", "all",
                "encryptionKeys", keyFile("keys", newKey("k1")));
        tomcats.add(t);
        store(t, ID, MARKER);
        t.engine.nonSticky().open(ID, new SessionState(), true);
        String dump = dump(t);
        assertTrue(t.store.keys("n1").size() >= 3 && t.store.keys("n2").size() >= 2, dump);
        assertFalse(dump.contains(MARKER), dump);
        assertFalse(dump.contains(ID.random()), dump);
        assertFalse(dump.contains(ID.random().toLowerCase()), dump);
        assertEquals(MARKER, read(t, ID));
    }

    @Test
    void aChangedByteIsAMissingSession_warnedAndCounted() throws Exception {
        EngineHarness t = tomcat("encryptionKeys", keyFile("keys", newKey("k1")));
        store(t, ID, MARKER);
        changeEverySealedCopy(t, value -> value[value.length - 20] ^= 1);
        assertNull(read(t, ID));
        assertTrue(t.count(Statistics.Counter.UNAUTHENTIC_SESSIONS) >= 1);
        assertEquals(0, t.count(Statistics.Counter.UNDECODABLE_SESSIONS));
    }

    /** Another msm release's envelope is no forgery: an operator told of tampering during an upgrade looks in vain. */
    @Test
    void aSealedFrameOfAnotherMsmReleaseIsUndecodableNotUnauthentic() throws Exception {
        EngineHarness t = tomcat("encryptionKeys", keyFile("keys", newKey("k1")));
        store(t, ID, MARKER);
        changeEverySealedCopy(t, value -> value[2] = (byte) (SessionFrame.VERSION + 1));
        assertNull(read(t, ID));
        assertTrue(t.count(Statistics.Counter.UNDECODABLE_SESSIONS) >= 1);
        assertEquals(0, t.count(Statistics.Counter.UNAUTHENTIC_SESSIONS));
    }

    @Test
    void aFrameCopiedUnderAnotherSessionsKeyDoesNotOpen() throws Exception {
        EngineHarness t = aliceAndBobEncrypted();
        NonStickyKeys keys = keysOf(t);
        t.store.put("n1", keys.data(OTHER), t.store.peek("n1", keys.data(ID)));
        t.store.put("n2", keys.backup(OTHER), t.store.peek("n2", keys.backup(ID)));

        assertNull(read(t, OTHER), "bob's session is not alice's");
        assertEquals(1, t.count(Statistics.Counter.UNAUTHENTIC_SESSIONS), "refused, and the load stops there");
        assertEquals(MARKER, read(t, ID));
    }

    /**
     * Anyone who can write to memcached can copy keys and values, but not make a tag: a stolen
     * session's validity record rewritten to "never expires", or deleted, must not outlive its timeout.
     */
    @Test
    void aValidityRecordForgedOrDeletedInMemcachedDoesNotKeepASessionPastItsTimeout() throws Exception {
        EngineHarness t = aliceAndBobEncrypted();
        NonStickyKeys keys = keysOf(t);
        assertEquals(MARKER, read(t, ID));
        byte[] never = new ValidityRecord(t.time.millis(), 0, t.time.millis()).encode();
        t.store.put("n1", keys.validity(ID), never);
        t.store.put("n2", keys.backupValidity(ID), never);
        assertEquals(MARKER, read(t, ID), "within its timeout the session's own copy says it lives");
        t.store.delete("n1", keys.validity(OTHER));
        t.store.delete("n2", keys.backupValidity(OTHER));

        t.time.advance((1800 + 60) * 1000L + 1); // its timeout and the grace; the copies themselves live on

        assertNull(read(t, ID), "a record that says it never expires, written by someone else");
        assertNull(read(t, OTHER), "no record at all");
    }

    /**
     * A validity record's tag binds it to its session, not to a time: one captured while the session
     * had another timeout (here none) and put back after the timeout was shortened must not keep the
     * session alive. The timeout change stored the sealed copy, which holds the timeout now in force.
     */
    @Test
    void anOlderValidityRecordOfAnotherTimeoutPutBackDoesNotKeepASessionPastItsTimeout() throws Exception {
        EngineHarness t = tomcat("encryptionKeys", keyFile("keys", newKey("k1")));
        NonStickyKeys keys = keysOf(t);
        SessionContent content = new SessionContent(Map.of("user", MARKER), null);
        SessionState state = new SessionState();
        SessionChanges created = new SessionChanges();
        created.attributeSet("user");
        t.engine.nonSticky().store(new SessionSnapshot(ID, t.time.millis(), t.time.millis(), 0, null, content), state,
                created);
        byte[] neverExpires = t.store.peek("n1", keys.validity(ID));
        byte[] neverExpiresOnBackup = t.store.peek("n2", keys.backupValidity(ID));
        assertNotNull(neverExpires);
        SessionChanges shortened = new SessionChanges();
        shortened.maxInactiveChanged();
        t.engine.nonSticky().store(new SessionSnapshot(ID, t.time.millis(), t.time.millis(), 60, null, content), state,
                shortened);
        assertEquals(MARKER, read(t, ID));
        byte[] copy = t.store.peek("n1", keys.data(ID));

        t.time.advance(600_000); // ten minutes: past the 60 s timeout and its grace
        t.store.put("n1", keys.data(ID), copy); // as a touch in memcached would keep it
        t.store.put("n1", keys.validity(ID), neverExpires);
        t.store.put("n2", keys.backupValidity(ID), neverExpiresOnBackup);

        assertNull(read(t, ID), "the record of the earlier timeout, put back");
    }

    /**
     * A request that loaded the session before another raised its timeout writes its record with the
     * old timeout, after the store of the new one. The copy's timeout holds: neither the expiry check
     * nor a load ends the session by that stale record. Without encryption, as with it.
     */
    @Test
    void aStaleRecordOfAShorterTimeoutDoesNotEndASessionItsCopyKeepsAlive() throws Exception {
        EngineHarness t = tomcat();
        EngineHarness other = tomcat();
        NonStickyKeys keys = new NonStickyKeys(new SessionNames(EngineHarness.PREFIX, null),
                List.of(new MemcachedNode("n1", "127.0.0.1", 1, false), new MemcachedNode("n2", "127.0.0.1", 2, false)));
        SessionContent content = new SessionContent(Map.of("user", MARKER), null);
        SessionChanges created = new SessionChanges();
        created.attributeSet("user");
        SessionState state = new SessionState();
        t.engine.nonSticky().store(new SessionSnapshot(ID, t.time.millis(), t.time.millis(), 1800, null, content), state,
                created);
        SessionState otherState = new SessionState();
        other.engine.nonSticky().open(ID, otherState, false); // its expiry check now watches the 1800 s
        other.engine.nonSticky().release(otherState);
        SessionChanges raised = new SessionChanges();
        raised.maxInactiveChanged();
        t.engine.nonSticky().store(new SessionSnapshot(ID, t.time.millis(), t.time.millis(), 28800, null, content),
                state, raised);
        // The record of a request that loaded the session before the raise, written after it.
        byte[] stale = new ValidityRecord(t.time.millis(), 1800, t.time.millis()).encode();
        t.store.put("n1", keys.validity(ID), stale);
        t.store.put("n2", keys.backupValidity(ID), stale);

        t.time.advance(2400_000); // 40 minutes: past 1800 s and its grace, far within 28800 s

        assertEquals(List.of(), ids(other.engine.nonSticky().claimExpired()), "not handed over for sessionDestroyed");
        assertEquals(MARKER, read(t, ID), "the session lives");
    }

    /**
     * The same forged and deleted records on the expiry check's side: the sealed copy's own last access
     * decides, so a session is claimed once that copy says its timeout passed (its listeners hear that
     * it expired), and not before: here another Tomcat wrote it again meanwhile.
     */
    @Test
    void aSessionWhoseValidityRecordWasForgedOrDeletedStillExpiresByItsSealedCopy() throws Exception {
        EngineHarness t = twoTomcatsWithOneKeyFileAndAlice();
        store(t, OTHER, "bob");
        t.time.advance(1000 * 1000L);
        store(tomcats.get(1), ID, MARKER); // a later request elsewhere: the sealed copy is younger than t knows
        NonStickyKeys keys = keysOf(t);
        byte[] never = new ValidityRecord(t.time.millis(), 0, t.time.millis()).encode();
        t.store.put("n1", keys.validity(ID), never);
        t.store.put("n2", keys.backupValidity(ID), never);
        t.store.delete("n1", keys.validity(OTHER));
        t.store.delete("n2", keys.backupValidity(OTHER));

        t.time.advance((800 + 60) * 1000L + 1); // OTHER's timeout and grace passed; ID's copy is 860 s old
        assertEquals(List.of(OTHER), ids(t.engine.nonSticky().claimExpired()),
                "OTHER claimed, for sessionDestroyed; ID's own copy says it lives");
        t.time.advance(1000 * 1000L);
        assertEquals(List.of(ID), ids(t.engine.nonSticky().claimExpired()), "ID claimed once its copy says so");
    }

    /**
     * With no record that verifies, the sealed copy said the session expired; a request on another
     * Tomcat rewrote it before this Tomcat's claim landed. The claimed copy is looked at again: the
     * session lives, so it is not handed over for sessionDestroyed, and the claim is given back.
     */
    @Test
    void aSessionRewrittenWhileItsExpiryIsClaimedIsNotExpired() throws Exception {
        EngineHarness t = twoTomcatsWithOneKeyFileAndAlice();
        NonStickyKeys keys = keysOf(t);
        t.store.delete("n1", keys.validity(ID));
        t.store.delete("n2", keys.backupValidity(ID));
        t.time.advance((1800 + 60) * 1000L + 1);

        // n1 sees the record read, the copy and marker read, then the claim.
        t.store.atOperation("n1", 3, () -> store(tomcats.get(1), ID, MARKER));
        assertEquals(List.of(), t.engine.nonSticky().claimExpired(), "alive: not handed over for sessionDestroyed");
        assertNull(t.store.peek("n1", keys.claim(ID)), "the claim is given back");
        assertEquals(MARKER, read(t, ID), "the session lives on");
    }

    private static List<SessionId> ids(List<SessionSnapshot> sessions) {
        List<SessionId> ids = new ArrayList<>();
        sessions.forEach(s -> ids.add(s.id()));
        return ids;
    }

    @Test
    void aSessionOnlyReadOutlivesTheLastAccessItsCopyRecordsThroughItsTaggedValidityRecord() throws Exception {
        EngineHarness t = tomcat("encryptionKeys", keyFile("keys", newKey("k1")));
        store(t, ID, MARKER);
        for (int i = 0; i < 4; i++) { // read every 15 minutes for an hour: only the record moves
            t.time.advance(900_000);
            SessionState state = new SessionState();
            SessionSnapshot s = t.engine.nonSticky().open(ID, state, false);
            assertEquals(MARKER, s.content().attributes().get("user"), "read " + i);
            t.engine.nonSticky().store(new SessionSnapshot(ID, s.creationTime(), t.time.millis(),
                    s.maxInactiveInterval(), null, s.content()), state, new SessionChanges());
            t.engine.nonSticky().release(state);
        }
    }

    /**
     * The record on the session's node alone is lost (evicted, or deleted by a repair after a write
     * that missed the node): the backup node's record, which verifies, says the session was used
     * lately. The sealed copy's own last access, from its last change an hour ago, must not log out
     * a user who only reads.
     */
    @Test
    void aSessionOnlyReadWhoseNodeLostItsValidityRecordLivesByTheBackupsRecord() throws Exception {
        EngineHarness t = twoTomcatsWithOneKeyFileAndAlice();
        for (int i = 0; i < 4; i++) { // read every 15 minutes for an hour: only the records move
            t.time.advance(900_000);
            SessionState state = new SessionState();
            SessionSnapshot s = t.engine.nonSticky().open(ID, state, false);
            t.engine.nonSticky().store(new SessionSnapshot(ID, s.creationTime(), t.time.millis(),
                    s.maxInactiveInterval(), null, s.content()), state, new SessionChanges());
            t.engine.nonSticky().release(state);
        }
        NonStickyKeys keys = keysOf(t);
        t.store.delete("n1", keys.validity(ID));
        t.time.advance(60_000);

        assertEquals(MARKER, read(t, ID), "alive by the backup's record");
        assertNotNull(t.store.peek("n1", keys.validity(ID)), "the node's record written again");
    }

    /** A Tomcat with encryption holding alice's session (ID) and bob's (OTHER). */
    private EngineHarness aliceAndBobEncrypted() throws Exception {
        EngineHarness t = tomcat("encryptionKeys", keyFile("keys", newKey("k1")));
        store(t, ID, MARKER);
        store(t, OTHER, "bob");
        return t;
    }

    /** @return the first of two Tomcats with the same keys (the second is tomcats.get(1)); alice's session stored */
    private EngineHarness twoTomcatsWithOneKeyFileAndAlice() throws Exception {
        String file = keyFile("keys", newKey("k1"));
        EngineHarness first = tomcat("encryptionKeys", file);
        tomcat("encryptionKeys", file);
        store(first, ID, MARKER);
        return first;
    }

    /** The names the Tomcat gives its keys, to reach them from the test. */
    private NonStickyKeys keysOf(EngineHarness t) {
        return new NonStickyKeys(new SessionNames(EngineHarness.PREFIX, readKeys(t)),
                List.of(new MemcachedNode("n1", "127.0.0.1", 1, false), new MemcachedNode("n2", "127.0.0.1", 2, false)));
    }

    private EncryptionKeys readKeys(EngineHarness t) {
        List<String> errors = new ArrayList<>();
        EncryptionKeys keys = EncryptionKeys.read("encryptionKeys", dir.resolve("keys").toString(), errors);
        assertEquals(List.of(), errors);
        return keys;
    }

    @Test
    void aSessionUnderAKeyNoLongerInTheFileIsMissing() throws Exception {
        String k1 = newKey("k1");
        String names = "names:" + k1.substring(3);
        EngineHarness before = tomcat("encryptionKeys", keyFile("old", k1));
        store(before, ID, MARKER);
        EngineHarness after = tomcat("encryptionKeys", keyFile("new", newKey("k2"), names));
        assertNull(read(after, ID));
        assertTrue(after.count(Statistics.Counter.UNAUTHENTIC_SESSIONS) >= 1);
    }

    @Test
    void aSessionPlantedInClearUnderItsEncryptedNameIsRefused_alsoWhileMigrating() throws Exception {
        String file = keyFile("keys", newKey("k1"));
        EngineHarness t = tomcat("encryptionKeys", file);
        store(t, ID, MARKER);
        EngineHarness clear = tomcat();
        SessionCodec codec = new SessionCodec(new SessionEngineIT.StringMapTranscoder(), List.of(),
                new Statistics(), new Expiry(t.time), new SessionNames(EngineHarness.PREFIX, null), null, false,
                new OncePerMinute(t.time));
        byte[] planted = codec.frame(EngineHarness.snapshot(ID, t.time.millis(), Map.of("user", "mallory")));
        for (String node : new String[] {"n1", "n2"}) {
            for (String key : t.store.keys(node)) {
                if (FrameCipher.isSealed(t.store.peek(node, key))) {
                    t.store.put(node, key, planted);
                }
            }
        }
        assertNull(read(t, ID));
        assertTrue(t.count(Statistics.Counter.UNAUTHENTIC_SESSIONS) >= 1);
        assertNull(read(clear, ID), "a Tomcat without keys looks under other keys: the id is not a key");

        // readUnencryptedSessions reads clear frames under the names from before encryption only: under
        // the encrypted names msm never writes one, and a Tomcat that read it would seal it for good.
        EngineHarness migrating = tomcat("encryptionKeys", file, "readUnencryptedSessions", "true");
        assertNull(read(migrating, ID), "planted under the encrypted name");
        assertTrue(migrating.count(Statistics.Counter.UNAUTHENTIC_SESSIONS) >= 1);
    }

    @Test
    void switchingEncryptionOnReadsSessionsStoredBefore_andWritesThemBackSealed() throws Exception {
        EngineHarness before = tomcat();
        store(before, ID, "alice");
        String file = keyFile("keys", newKey("k1"));
        EngineHarness refusing = tomcat("encryptionKeys", file);
        assertNull(read(refusing, ID), "without readUnencryptedSessions a session stored in clear is not found");

        EngineHarness migrating = tomcat("encryptionKeys", file, "readUnencryptedSessions", "true");
        SessionState state = new SessionState();
        SessionSnapshot found = migrating.engine.nonSticky().open(ID, state, false);
        assertEquals("alice", found.content().attributes().get("user"), "found under its clear name");
        // Unchanged, yet written again: memcached holds it in clear, which must not last.
        migrating.engine.nonSticky().store(found, state, new SessionChanges());
        assertEquals("alice", read(refusing, ID), "now sealed under its hashed name");
        assertEquals(0, refusing.count(Statistics.Counter.UNAUTHENTIC_SESSIONS));
        // The clear copy stays while the cluster switches: a Tomcat that has no keys yet reads it (a try
        // that deleted it once sealed logged out every user who reached such a Tomcat next).
        assertEquals("alice", read(before, ID), "a Tomcat without keys yet");
    }

    /** Non-sticky: alice's session stored in clear (tomcats 0), then read by a Tomcat switching encryption on (1). */
    private SessionSnapshot aliceReadInClearWhileSwitching(SessionState state) throws Exception {
        store(tomcat(), ID, "alice");
        EngineHarness migrating = tomcat("encryptionKeys", keyFile("keys", newKey("k1")),
                "readUnencryptedSessions", "true");
        return migrating.engine.nonSticky().open(ID, state, false);
    }

    /** A login in the very request that read the clear copy: it goes with the old id's keys. */
    @Test
    void aLoginInTheRequestThatReadTheClearCopyDeletesIt_nonSticky() throws Exception {
        SessionState state = new SessionState();
        SessionSnapshot found = aliceReadInClearWhileSwitching(state);
        EngineHarness before = tomcats.get(0);
        EngineHarness migrating = tomcats.get(1);
        SessionChanges login = new SessionChanges();
        login.principalChanged();

        migrating.engine.nonSticky().store(new SessionSnapshot(OTHER, found.creationTime(), found.lastAccessedTime(),
                found.maxInactiveInterval(), "FORM", found.content()), state, login);

        assertFalse(dump(migrating).contains("alice"), dump(migrating));
        assertNull(read(before, ID), "the clear copy under the id from before the login");
        assertEquals("alice", read(migrating, OTHER), "sealed under the new id");
    }

    /** Sticky: alice's session stored in clear (tomcats 0), then read by a Tomcat switching encryption on (1). */
    private SessionSnapshot aliceReadInClearWhileSwitching(SessionId id, SessionState state) throws Exception {
        EngineHarness before = EngineHarness.start();
        tomcats.add(before);
        before.engine.sticky().afterRequest(EngineHarness.snapshot(id, before.time.millis(), Map.of("user", "alice")),
                new SessionState());
        EngineHarness migrating = before.secondTomcat("encryptionKeys", keyFile("keys", newKey("k1")),
                "readUnencryptedSessions", "true");
        tomcats.add(migrating);
        SessionSnapshot found = migrating.engine.sticky().load(id, state);
        assertEquals("alice", found.content().attributes().get("user"), "found under its clear name");
        return found;
    }

    @Test
    void whileSwitchingEncryptionOnATomcatWithoutKeysStillReadsTheClearCopy_sticky() throws Exception {
        SessionId id = STICKY_ID;
        SessionState state = new SessionState();
        SessionSnapshot found = aliceReadInClearWhileSwitching(id, state);
        EngineHarness before = tomcats.get(0);
        EngineHarness migrating = tomcats.get(1);

        migrating.engine.sticky().afterRequest(found, state); // sealed under its hashed name

        assertEquals("alice", before.engine.sticky().load(id, new SessionState()).content().attributes().get("user"),
                "a Tomcat without keys yet, after a failover to it");
        assertEquals("alice", migrating.engine.sticky().load(id, new SessionState()).content().attributes().get("user"),
                "the sealed copy");
    }

    @Test
    void aLogoutWhileSwitchingEncryptionOnIsNotUndoneByTheClearCopy_nonSticky() throws Exception {
        SessionState state = new SessionState();
        SessionSnapshot found = aliceReadInClearWhileSwitching(state);
        EngineHarness migrating = tomcats.get(1);
        migrating.engine.nonSticky().store(found, state, new SessionChanges());

        migrating.engine.nonSticky().removed(ID, state, 1800);

        assertNull(read(migrating, ID), "logged out for good");
    }

    @Test
    void aLogoutWhileSwitchingEncryptionOnIsNotUndoneByTheClearCopy_sticky() throws Exception {
        SessionId id = STICKY_ID;
        SessionState state = new SessionState();
        SessionSnapshot found = aliceReadInClearWhileSwitching(id, state);
        EngineHarness migrating = tomcats.get(1);
        migrating.engine.sticky().afterRequest(found, state); // sealed under its hashed name

        migrating.engine.sticky().removed(id, state);

        assertNull(migrating.engine.sticky().load(id, new SessionState()), "logged out for good");
    }

    @Test
    void rotationInTwoPassesKeepsEverySessionReadableOnEveryTomcat() throws Exception {
        String k1 = newKey("k1");
        String k2 = newKey("k2");
        String names = "names:" + k1.substring(3);
        EngineHarness old = tomcat("encryptionKeys", keyFile("a", k1));
        store(old, ID, "alice");
        // First pass: every Tomcat learns k2 and keeps encrypting with k1.
        EngineHarness learned = tomcat("encryptionKeys", keyFile("b", k1, k2, names));
        assertEquals("alice", read(learned, ID));
        store(learned, OTHER, "bob");
        assertEquals("bob", read(old, OTHER), "a Tomcat still on the old file reads it");
        // Second pass: k2 encrypts.
        EngineHarness rotated = tomcat("encryptionKeys", keyFile("c", k2, k1, names));
        store(rotated, OTHER, "bob2");
        assertEquals("bob2", read(learned, OTHER));
        assertEquals("alice", read(rotated, ID));
        // Last: k1 goes, once no session written under it lives.
        store(rotated, ID, "alice2");
        EngineHarness retired = tomcat("encryptionKeys", keyFile("d", k2, names));
        assertEquals("alice2", read(retired, ID));
        assertEquals("bob2", read(retired, OTHER));
        assertEquals(0, retired.count(Statistics.Counter.UNAUTHENTIC_SESSIONS));
    }

    /**
     * A session used after the second pass without a change (a user viewing images) is written again
     * under the new key: once the old key's line goes, its user is still logged in. Before, only a
     * change wrote it, and an unchanged session kept the old key for as long as it was used.
     */
    @Test
    void aSessionUsedWithoutChangesAfterTheSecondPassIsSealedUnderTheNewKey_nonSticky() throws Exception {
        String k1 = newKey("k1");
        String k2 = newKey("k2");
        String names = "names:" + k1.substring(3);
        store(tomcat("encryptionKeys", keyFile("a", k1)), ID, "alice");
        EngineHarness rotated = tomcat("encryptionKeys", keyFile("c", k2, k1, names));
        SessionState state = new SessionState();
        SessionSnapshot read = rotated.engine.nonSticky().open(ID, state, false);
        rotated.engine.nonSticky().store(read, state, new SessionChanges()); // the end of a request that only read
        SessionState again = new SessionState();
        rotated.engine.nonSticky().store(rotated.engine.nonSticky().open(ID, again, false), again,
                new SessionChanges());

        EngineHarness retired = tomcat("encryptionKeys", keyFile("d", k2, names));
        assertEquals("alice", read(retired, ID));
        assertEquals(0, retired.count(Statistics.Counter.UNAUTHENTIC_SESSIONS));
        assertEquals(1, rotated.count(Statistics.Counter.NON_STICKY_STORES_SKIPPED),
                "written once: the request after it, under the new key, writes nothing");
    }

    @Test
    void aSessionUsedWithoutChangesAfterTheSecondPassIsSealedUnderTheNewKey_sticky() throws Exception {
        String k1 = newKey("k1");
        String k2 = newKey("k2");
        String names = "names:" + k1.substring(3);
        EngineHarness old = EngineHarness.start("encryptionKeys", keyFile("a", k1));
        tomcats.add(old);
        old.engine.sticky().afterRequest(EngineHarness.snapshot(STICKY_ID, old.time.millis(), Map.of("user", "alice")),
                new SessionState());
        EngineHarness rotated = old.secondTomcat("encryptionKeys", keyFile("c", k2, k1, names));
        tomcats.add(rotated);
        SessionState state = new SessionState();
        SessionSnapshot read = rotated.engine.sticky().load(STICKY_ID, state); // its Tomcat restarted: step 2
        rotated.engine.sticky().afterRequest(read, state);
        rotated.time.advance(DeferredComparisons.CHANGE_WINDOW_MILLIS + 1_000); // the comparison a read schedules
        rotated.comparisons.runDue();

        EngineHarness retired = old.secondTomcat("encryptionKeys", keyFile("d", k2, names));
        tomcats.add(retired);
        SessionSnapshot failover = retired.engine.sticky().load(STICKY_ID, new SessionState());
        assertNotNull(failover, "logged out when the old key went");
        assertEquals("alice", failover.content().attributes().get("user"));
    }

    @Test
    void aMalformedKeyFileStopsTheStartNamingTheLine_neverTheKey() throws Exception {
        String good = newKey("k1");
        String shortKey = "k2:" + Base64.getEncoder().encodeToString(new byte[16]);
        String file = keyFile("bad", "# rotated 2026-12", good, shortKey, "k3 " + good.substring(3), good);
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Settings.parse(
                new LinkedHashMap<>(Map.of("memcachedNodes", "n1:127.0.0.1:1", "encryptionKeys", file))));
        String message = e.getMessage();
        assertTrue(message.contains("line 3 of " + file) && message.contains("16 bytes, not 32"), message);
        assertTrue(message.contains("line 4 of " + file) && message.contains("does not start with a key id"), message);
        assertTrue(message.contains("line 5 of " + file) && message.contains("'k1' appears twice"), message);
        assertFalse(message.contains(good.substring(3)), "no key in the message");

        ConfigurationException missing = assertThrows(ConfigurationException.class, () -> Settings.parse(
                Map.of("memcachedNodes", "n1:127.0.0.1:1", "encryptionKeys", dir.resolve("nope").toString())));
        assertTrue(missing.getMessage().startsWith("encryptionKeys: the key file") || missing.getMessage()
                .contains("encryptionKeys: the key file " + dir.resolve("nope") + " cannot be read"), missing.getMessage());
    }

    @Test
    void aKeyFileOthersCanReadIsAWarnAtStart() throws Exception {
        try (JulCapture log = JulCapture.of(EncryptionKeys.class)) {
            List<String> warnings = log.lines();
            String file = keyFile("keys", newKey("k1"));
            Settings.parse(Map.of("memcachedNodes", "n1:127.0.0.1:1", "encryptionKeys", file));
            assertEquals(List.of(), warnings, "rw------- is quiet");
            Files.setPosixFilePermissions(Path.of(file), PosixFilePermissions.fromString("rw-r--r--"));
            Settings.parse(Map.of("memcachedNodes", "n1:127.0.0.1:1", "encryptionKeys", file));
            assertEquals(1, warnings.size(), String.valueOf(warnings));
            assertTrue(warnings.get(0).startsWith("WARNING") && warnings.get(0).contains("chmod 600"), warnings.get(0));
        }
    }

    @Test
    void aKeyFileOrDirectoryOthersCanWriteIsAWarnAtStart() throws Exception {
        try (JulCapture log = JulCapture.of(EncryptionKeys.class)) {
            List<String> warnings = log.lines();
            String file = keyFile("keys", newKey("k1"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            Settings.parse(Map.of("memcachedNodes", "n1:127.0.0.1:1", "encryptionKeys", file));
            assertEquals(List.of(), warnings, "rw------- in rwx------ is quiet");
            Files.setPosixFilePermissions(Path.of(file), PosixFilePermissions.fromString("rw--w----"));
            Settings.parse(Map.of("memcachedNodes", "n1:127.0.0.1:1", "encryptionKeys", file));
            assertEquals(1, warnings.size(), String.valueOf(warnings));
            assertTrue(warnings.get(0).contains("can be changed by its group"), warnings.get(0));
            Files.setPosixFilePermissions(Path.of(file), PosixFilePermissions.fromString("rw-------"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            Settings.parse(Map.of("memcachedNodes", "n1:127.0.0.1:1", "encryptionKeys", file));
            assertEquals(2, warnings.size(), String.valueOf(warnings));
            assertTrue(warnings.get(1).contains("directory") && warnings.get(1).contains("every user"), warnings.get(1));
        }
    }

    @Test
    void readUnencryptedSessionsWithoutKeysHasNoEffect_andTheKeysAreNeverDescribed() throws Exception {
        Settings without = Settings.parse(Map.of("memcachedNodes", "n1:127.0.0.1:1", "readUnencryptedSessions", "true"));
        assertEquals(1, without.withoutEffect().size());
        String key = newKey("k1");
        Settings with = Settings.parse(Map.of("memcachedNodes", "n1:127.0.0.1:1", "encryptionKeys",
                keyFile("keys", key)));
        assertNotNull(with.encryptionKeys());
        assertFalse(with.describe().toString().contains(key.substring(3)));
        assertTrue(with.describe().get("encryptionKeys").contains("[k1]"));
    }
}

package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;

/**
 * What a crafted cookie or one user's huge session can do, on the in-memory store: neither costs
 * anyone else their session, their node or their backups.
 */
class HostileInputTest {
    private static final String RANDOM = "5F4DCC3B5AA765D61D8327DEB882CF99";

    @Test
    void idsNotInMsmsFormAreNoSessionAndAreCountedQuietly() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            SessionEngine engine = tomcat.engine;
            List<String> crafted = new ArrayList<>();
            crafted.add("A".repeat(300) + "-n1.tomcat1"); // longer than any key memcached takes
            crafted.add(RANDOM + "-n9.tomcat1"); // a node this cluster does not have
            crafted.add("ZZ4DCC3B5AA765D61D8327DEB882CF99-n1.tomcat1"); // not hexadecimal
            crafted.add("y_" + RANDOM + "-n1"); // another webapp's key, shifted into the id
            crafted.add("5F4DCC3B-n1.tomcat1"); // too short to be the container's
            crafted.add(RANDOM + "-n1.tom cat"); // a route with a space
            crafted.add(RANDOM); // no node at all
            for (String id : crafted) {
                assertNull(engine.knownId(id), id);
            }
            assertEquals(crafted.size(), tomcat.count(Statistics.Counter.INVALID_SESSION_IDS));
            assertNotNull(engine.knownId(RANDOM + "-n1.tomcat1"));
            assertNotNull(engine.knownId(RANDOM + "-n2"));
            assertNotNull(engine.knownId(RANDOM.toLowerCase() + "-n2.tomcat-1_a.b"));
        }
    }

    /**
     * An id of a node that is not in memcachedNodes is how a removed or renamed node's sessions
     * arrive, and each logs its user out: a WARN says so, naming the node ids seen, once a minute;
     * ids made up with ever new node names add a count, not names or lines.
     */
    @Test
    void idsOfANodeNotInMemcachedNodesAreOneWarnAMinuteNamingTheNode() throws Exception {
        try (JulCapture log = JulCapture.of(SessionIdFormat.class)) {
            List<String> lines = log.lines();
            FakeTime time = new FakeTime(0);
            Settings settings = Settings.parse(Map.of("memcachedNodes", "n1:h:1,n2:h:2"));
            Statistics statistics = new Statistics();
            SessionIdFormat ids = new SessionIdFormat(settings.nodes(), 32, statistics, new OncePerMinute(time));
            assertNull(ids.check(RANDOM + "-n3.tomcat1"));
            assertNull(ids.check(RANDOM + "-n3.tomcat2"));
            assertNotNull(ids.check(RANDOM + "-n1.tomcat1"));
            assertEquals(1, lines.size(), String.valueOf(lines));
            assertTrue(lines.get(0).startsWith("WARNING") && lines.get(0).contains("{n3=1}")
                    && lines.get(0).contains("Changing memcachedNodes"), lines.get(0));
            for (int i = 0; i < 100; i++) {
                assertNull(ids.check(RANDOM + "-x" + i));
            }
            assertNull(ids.check(RANDOM + "-n3"));
            assertEquals(1, lines.size(), "once a minute");
            time.advance(61_000);
            assertNull(ids.check(RANDOM + "-n3"));
            assertEquals(2, lines.size());
            assertTrue(lines.get(1).contains("{n3=3, others=96, x0=1, x1=1, x2=1, x3=1}"), lines.get(1));
            assertEquals(104, statistics.get(Statistics.Counter.INVALID_SESSION_IDS));
        }
    }

    @Test
    void theAcceptedLengthFollowsTheContainersGenerator() throws Exception {
        Settings settings = Settings.parse(Map.of("memcachedNodes", "n1:h:1"));
        SessionIdFormat shortIds = new SessionIdFormat(settings.nodes(), 8, new Statistics(), null);
        assertNotNull(shortIds.check("ABCDEF12-n1.tomcat1"), "a container configured for 4-byte ids");
        assertNull(shortIds.check("ABCDEF1-n1.tomcat1"), "shorter than its own");
        SessionIdFormat longIds = new SessionIdFormat(settings.nodes(), 128, new Statistics(), null);
        assertNotNull(longIds.check("A".repeat(128) + "-n1"), "a container configured for 64-byte ids");
        assertNull(longIds.check("A".repeat(257) + "-n1"));
    }

    @Test
    void aRefusedItemLeavesTheNodeUpForEveryoneElse() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            StickySessions sticky = tomcat.engine.sticky();
            SessionId big = SessionId.of(RANDOM, "n1", "tomcat1");
            SessionId neighbour = SessionId.of("0000000000000000000000000000000A", "n1", "tomcat1");
            tomcat.store.refuseAbove("n1", 10_000); // as a memcached started with a small -I would

            SessionState bigState = new SessionState();
            sticky.afterRequest(snapshot(big, blob(20_000)), bigState);
            assertFalse(bigState.isBackedUp(big), "refused");
            assertEquals(1, tomcat.count(Statistics.Counter.ITEMS_REFUSED));

            assertNull(sticky.movedId(neighbour, "tomcat1"), "the neighbour keeps its node");
            SessionState state = new SessionState();
            sticky.afterRequest(snapshot(neighbour, Map.of("user", "bob")), state);
            assertTrue(state.isBackedUp(neighbour), "and its backups");
        }
    }

    @Test
    void aSessionLargerThanAnItemIsStoredInPartsAndTakenOverWhole() throws Exception {
        try (EngineHarness tomcat1 = EngineHarness.start(); EngineHarness tomcat2 = tomcat1.secondTomcat()) {
            for (int megabytes : new int[] {2, 20}) {
                SessionId id = SessionId.of(RANDOM.substring(0, 30) + megabytes + "0", "n1", "tomcat1");
                Map<String, Object> content = blob(megabytes * 1_000_000);
                SessionState state = new SessionState();
                tomcat1.engine.sticky().afterRequest(snapshot(id, content), state);
                assertTrue(state.isBackedUp(id), megabytes + " MB stored");
                assertTrue(tomcat1.store.keys("n1").size() > megabytes, "in parts: " + tomcat1.store.keys("n1"));

                SessionSnapshot taken = tomcat2.engine.sticky().load(id, new SessionState()); // its Tomcat died
                assertNotNull(taken, megabytes + " MB loaded");
                assertEquals(content, taken.content().attributes());
            }
        }
    }

    @Test
    void partsOfALargeSessionGoWithIt() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            SessionId id = SessionId.of(RANDOM, "n1", "tomcat1");
            SessionState state = new SessionState();
            tomcat.engine.sticky().afterRequest(snapshot(id, blob(2_500_000)), state);
            assertEquals(4, tomcat.store.keys("n1").size(), "an index and three parts");

            tomcat.engine.sticky().removed(id, state);

            assertEquals(List.of(), tomcat.store.keys("n1"), "the logout deletes the parts too");
        }
    }

    @Test
    void aLargeSessionWrittenAgainLeavesNoPartsOfTheOldValueBehind() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            SessionId id = SessionId.of(RANDOM, "n1", "tomcat1");
            SessionState state = new SessionState();
            tomcat.engine.sticky().afterRequest(snapshot(id, blob(2_500_000)), state);
            tomcat.engine.sticky().afterRequest(snapshot(id, blob(2_500_000)), state);
            tomcat.engine.sticky().afterRequest(snapshot(id, blob(2_600_000)), state);
            assertEquals(10, tomcat.store.keys("n1").size(), "the replaced parts stay a moment, for reads under way");

            tomcat.time.advance(PartedStore.REPLACED_PARTS_SECONDS * 1000L + 1);
            assertEquals(4, tomcat.store.keys("n1").size(), "the index and the parts of the last value only");
            tomcat.engine.sticky().removed(id, state);
            assertEquals(List.of(), tomcat.store.keys("n1"));
        }
    }

    @Test
    void aPlantedPartsIndexIsNoSessionAndLeavesNoLockBehind() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false", "lockingMode", "all")) {
            SessionId id = SessionId.of(RANDOM, "n1", null);
            SessionChanges created = new SessionChanges();
            created.attributeSet("user");
            tomcat.engine.nonSticky().store(snapshot(id, Map.of("user", "alice")), new SessionState(), created);
            byte[] planted = java.nio.ByteBuffer.allocate(29).put(new byte[] {0, 'm', 's', 'p', 1}).putLong(7)
                    .putInt(Integer.MAX_VALUE).putInt(-1).putLong(0).array();
            List<String> keys = tomcat.store.keys("n1");
            for (String key : keys) {
                tomcat.store.put("n1", key, planted); // the data key among them
            }

            SessionState state = new SessionState();
            assertNull(tomcat.engine.nonSticky().open(id, state, true));
            assertNull(state.lock, "the lock taken for the load is freed");
        }
    }

    @Test
    void anIndexOfAValueLongerThanTheTranscodersReadIsAMissingSession() throws Exception {
        FakeTime time = new FakeTime(0);
        InMemoryStore items = new InMemoryStore(time, "n1");
        PartedStore store = new PartedStore(items, 1000, 2500); // parts of 1000 bytes, values up to 2500
        byte[] fits = new byte[2400];
        ThreadLocalRandom.current().nextBytes(fits);
        store.set("n1", "k", fits, 0);
        assertArrayEquals(fits, store.get("n1", "k"));

        byte[] planted = new byte[3000]; // planted whole: index, parts and checksum all match
        ThreadLocalRandom.current().nextBytes(planted);
        new PartedStore(items, 1000).set("n1", "k", planted, 0);
        assertNull(store.get("n1", "k"), "64 parts of 1 MB each would be held by every load before any check");
    }

    @Test
    void aLargeSessionWithAPartEvictedLoadsAsMissingNeverHalf() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            SessionId id = SessionId.of(RANDOM, "n1", "tomcat1");
            tomcat.engine.sticky().afterRequest(snapshot(id, blob(2_500_000)), new SessionState());
            String part = tomcat.store.keys("n1").stream().filter(k -> k.contains(":part:")).findFirst().get();
            tomcat.store.put("n1", part, new byte[] {1, 2, 3}); // evicted and something else written there

            assertNull(tomcat.engine.sticky().load(id, new SessionState()));
        }
    }

    @Test
    void nonStickyStoresAndMergesLargeSessionsToo() throws Exception {
        try (EngineHarness tomcat1 = EngineHarness.start("sticky", "false", "lockingMode", "none");
                EngineHarness tomcat2 = tomcat1.secondTomcat("sticky", "false", "lockingMode", "none")) {
            SessionId id = SessionId.of(RANDOM, "n1", null);
            Map<String, Object> content = blob(3_000_000);
            SessionChanges created = new SessionChanges();
            content.keySet().forEach(created::attributeSet);
            tomcat1.engine.nonSticky().store(snapshot(id, content), new SessionState(), created);

            SessionState s1 = new SessionState();
            SessionState s2 = new SessionState();
            Map<String, Object> seen1 = new LinkedHashMap<>(tomcat1.engine.nonSticky().open(id, s1, false)
                    .content().attributes());
            Map<String, Object> seen2 = new LinkedHashMap<>(tomcat2.engine.nonSticky().open(id, s2, false)
                    .content().attributes());
            seen1.put("cart", "3 items");
            SessionChanges cart = new SessionChanges();
            cart.attributeSet("cart");
            tomcat1.engine.nonSticky().store(snapshot(id, seen1), s1, cart);
            seen2.put("theme", "dark");
            SessionChanges theme = new SessionChanges();
            theme.attributeSet("theme");
            tomcat2.engine.nonSticky().store(snapshot(id, seen2), s2, theme);

            tomcat1.store.forget("n1"); // and then its node restarted empty: the backup copy has it all
            Map<String, Object> stored = tomcat1.engine.nonSticky().open(id, new SessionState(), false)
                    .content().attributes();
            assertEquals("3 items", stored.get("cart"));
            assertEquals("dark", stored.get("theme"));
            assertEquals(content.get("a0"), stored.get("a0"));
        }
    }

    @Test
    void aSessionLargerThanMsmStoresStaysInMemoryLoggedOnceAndCounted() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start()) {
            SessionId id = SessionId.of(RANDOM, "n1", "tomcat1");
            SessionState state = new SessionState();
            Map<String, Object> huge = blob((int) OversizedSessions.MAX_FRAME + 100_000);
            tomcat.engine.sticky().afterRequest(snapshot(id, huge), state);
            tomcat.time.advance(2000);
            tomcat.engine.sticky().afterRequest(snapshot(id, huge), state);

            assertFalse(state.isBackedUp(id));
            assertEquals(2, tomcat.count(Statistics.Counter.SESSIONS_TOO_LARGE));
            assertTrue(state.oversizeLogged);
            assertFalse(tomcat.engine.sticky().needsBackup(id, state),
                    "the background run does not encode it again: only a change can make it fit");
            assertEquals(List.of(), tomcat.store.keys("n1"), "nothing half-written");
            assertTrue(tomcat.engine.sticky().needsBackup(SessionId.of("0000000000000000000000000000000A", "n1",
                    "tomcat1"), new SessionState()), "the node stays up for the others");
        }
    }

    /**
     * Non-sticky: each request stores its own copy with a new state, so a flag on the state names an
     * oversized session at every request, each line encoding every attribute alone: at most once a
     * minute instead, with every refused store counted.
     */
    @Test
    void aNonStickySessionLargerThanMsmStoresIsLoggedAtMostOnceAMinute() throws Exception {
        try (JulCapture log = JulCapture.of(OversizedSessions.class);
                EngineHarness tomcat = EngineHarness.start("sticky", "false", "lockingMode", "none")) {
            List<String> lines = log.lines();
            SessionId id = SessionId.of(RANDOM, "n1", null);
            Map<String, Object> huge = blob((int) OversizedSessions.MAX_FRAME + 100_000);
            SessionChanges set = new SessionChanges();
            set.attributeSet("a0");
            for (int i = 0; i < 3; i++) { // three requests, each with its own copy
                tomcat.engine.nonSticky().store(snapshot(id, huge), new SessionState(), set);
                tomcat.time.advance(1000);
            }
            assertEquals(3, tomcat.count(Statistics.Counter.SESSIONS_TOO_LARGE));
            assertEquals(1, lines.size(), lines.toString());
            tomcat.time.advance(60_000);
            tomcat.engine.nonSticky().store(snapshot(id, huge), new SessionState(), set);
            assertEquals(2, lines.size(), "again after a minute");
        }
    }

    /**
     * A node's outage moves every session used meanwhile to another node: one line a minute for the
     * pair of nodes, not one per session, which would bury the node's one WARN; each move counted.
     */
    @Test
    void sessionsMovedOffANodeAreCountedEachAndLoggedOnceAMinute() throws Exception {
        try (JulCapture log = JulCapture.of(StickySessions.class); EngineHarness tomcat = EngineHarness.start()) {
            for (int i = 0; i < 50; i++) {
                SessionId from = SessionId.of(String.format("%032X", i), "n1", "tomcat1");
                tomcat.engine.sticky().moved(from, from.withNode("n2"), 1800);
            }
            assertEquals(50, tomcat.count(Statistics.Counter.RELOCATIONS));
            assertEquals(1, log.lines().stream().filter(l -> l.contains("moves from")).count(), log.lines().toString());
            tomcat.time.advance(60_000);
            SessionId from = SessionId.of(RANDOM, "n1", "tomcat1");
            tomcat.engine.sticky().moved(from, from.withNode("n2"), 1800);
            assertEquals(2, log.lines().stream().filter(l -> l.contains("moves from")).count(), "again after a minute");
        }
    }

    /** Non-sticky: a load that no node answered is a failure, as in sticky mode, not a session not found. */
    @Test
    void aNonStickyLoadNoNodeAnsweredCountsAsAFailure() throws Exception {
        try (EngineHarness tomcat = EngineHarness.start("sticky", "false", "lockingMode", "none")) {
            SessionId id = SessionId.of(RANDOM, "n1", null);
            SessionChanges set = new SessionChanges();
            set.attributeSet("a");
            tomcat.engine.nonSticky().store(snapshot(id, Map.of("a", "1")), new SessionState(), set);
            tomcat.store.fail("n1");
            tomcat.store.fail("n2");

            assertNull(tomcat.engine.nonSticky().open(id, new SessionState(), false));

            assertEquals(1, tomcat.count(Statistics.Counter.LOAD_FAILURES));
            assertEquals(0, tomcat.count(Statistics.Counter.LOAD_MISSES));
        }
    }

    @Test
    void prefixesOfDifferentWebappsNeverMakeTheSameKey() {
        String id = RANDOM + "-n1";
        assertNotEquals(StorageKeyPrefix.build("host,context", "localhost", "/x", null) + "y_" + id,
                StorageKeyPrefix.build("host,context", "localhost", "/x_y", null) + id);
        assertNotEquals(StorageKeyPrefix.build("host,context", "localhost", "/a b", null),
                StorageKeyPrefix.build("host,context", "localhost", "/a_b", null));
        assertNotEquals(StorageKeyPrefix.build("host,context", "a_b", "/c", null),
                StorageKeyPrefix.build("host,context", "a", "/b_/c", null));
        assertEquals("localhost_/xnat_", StorageKeyPrefix.build("host,context", "localhost", "/xnat", null),
                "plain paths keep their keys");
        String weird = StorageKeyPrefix.build("host,context", "localhost", "/ä\n%", null);
        assertTrue(weird.chars().allMatch(c -> c > ' ' && c < 127), weird);
    }

    @Test
    void aPrefixThatLeavesNoRoomForTheIdStopsTheWebappNamingBoth() throws Exception {
        Settings settings = Settings.parse(Map.of("memcachedNodes", "n1:h:1"));
        List<String> errors = new ArrayList<>();
        String path = "/" + "p".repeat(200);
        KeyLimits.check(settings, StorageKeyPrefix.build("host,context", "localhost", path, null), 32, path, errors);
        assertEquals(1, errors.size());
        assertTrue(errors.get(0).startsWith("storageKeyPrefix:") && errors.get(0).contains(path), errors.get(0));

        errors.clear();
        KeyLimits.check(settings, StorageKeyPrefix.build("host,context", "localhost", "/xnat", null), 32, "/xnat",
                errors);
        assertEquals(List.of(), errors);
    }

    @Test
    void aBigValueWrittenInPartsReadsBackByteForByte() throws Exception {
        FakeTime time = new FakeTime(0);
        InMemoryStore items = new InMemoryStore(time, "n1");
        PartedStore store = new PartedStore(items, 1000);
        byte[] value = new byte[4321];
        ThreadLocalRandom.current().nextBytes(value);
        store.set("n1", "k", value, 0);
        assertArrayEquals(value, store.get("n1", "k"));
        SessionStore.Versioned v = store.gets("n1", "k");
        assertArrayEquals(value, v.value);

        byte[] other = new byte[2500];
        assertEquals(SessionStore.CasOutcome.STORED, store.cas("n1", "k", v.cas, other, 0));
        assertEquals(1 + 3 + 5, items.keys("n1").size(), "the old value's five parts stay a moment, for a reader"
                + " that got its index just before");
        time.advance(PartedStore.REPLACED_PARTS_SECONDS * 1000L + 1);
        assertEquals(4, items.keys("n1").size(), "the index and the three parts of the new value, none of the old");
        assertEquals(SessionStore.CasOutcome.CHANGED_MEANWHILE, store.cas("n1", "k", v.cas, value, 0),
                "the loser's parts are not left behind");
        assertArrayEquals(other, store.get("n1", "k"));
    }

    /** Attributes of random text adding up to about {@code bytes}. */
    static Map<String, Object> blob(int bytes) {
        Map<String, Object> attributes = new LinkedHashMap<>();
        int chunk = 60_000; // writeUTF's limit is 65,535
        StringBuilder sb = new StringBuilder(chunk);
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; bytes > 0; i++) {
            sb.setLength(0);
            int n = Math.min(chunk, bytes);
            for (int j = 0; j < n; j++) {
                sb.append((char) ('a' + random.nextInt(26)));
            }
            attributes.put("a" + i, sb.toString());
            bytes -= n;
        }
        return attributes;
    }

    private static SessionSnapshot snapshot(SessionId id, Map<String, Object> attributes) {
        return new SessionSnapshot(id, 1_700_000_000_000L, 1_700_000_000_500L, 1800, null,
                new SessionContent(attributes, null));
    }

    /**
     * An Error out of a transcoder (a LinkageError: a stored class whose superclass's jar is gone, or
     * planted so) answered 500, and a non-sticky load left its lock held: every next request of the
     * session waited lockWaitTimeout, then failed again.
     */
    @Test
    void aSessionWhoseDecodeThrowsAnErrorIsMissingAndLeavesNoLockBehind() throws Exception {
        try (EngineHarness a = EngineHarness.start("sticky", "false", "lockingMode", "all");
                EngineHarness b = a.secondTomcat("sticky", "false", "lockingMode", "all")) {
            SessionId id = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
            SessionChanges changes = new SessionChanges();
            changes.attributeSet("cart");
            a.engine.nonSticky().store(EngineHarness.snapshot(id, a.time.millis(),
                    Map.of("cart", SessionEngineIT.StringMapTranscoder.UNLINKABLE)), new SessionState(), changes);

            assertNull(b.engine.nonSticky().open(id, new SessionState(), true), "as a session that is missing");
            assertNull(b.store.peek("n1", EngineHarness.PREFIX + "lock:" + id), "its lock is released");
            assertEquals(1, b.count(Statistics.Counter.UNDECODABLE_SESSIONS));
        }
    }
}

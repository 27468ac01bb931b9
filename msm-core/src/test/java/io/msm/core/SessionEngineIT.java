package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/** The engine against two real memcached processes: where sessions land, what is skipped, and node death. */
class SessionEngineIT {
    private static final String PREFIX = "test_";
    private static final String ROUTE = "tomcat-1";
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** Map<String,String> as sorted key/value pairs, so equal maps always give equal bytes. */
    static class StringMapTranscoder implements Transcoder {
        /** A value that decodes as a class whose superclass's jar is gone does: with a LinkageError. */
        static final String UNLINKABLE = "(unlinkable)";

        @Override
        public int id() {
            return 200;
        }

        @Override
        public byte[] encode(SessionContent content) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                Map<String, Object> sorted = new TreeMap<>(content.attributes());
                out.writeInt(sorted.size());
                for (Map.Entry<String, Object> e : sorted.entrySet()) {
                    out.writeUTF(e.getKey());
                    out.writeUTF((String) e.getValue());
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return bytes.toByteArray();
        }

        @Override
        public SessionContent decode(byte[] data) throws TranscoderException {
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
                Map<String, Object> attributes = new LinkedHashMap<>();
                for (int n = in.readInt(); n > 0; n--) {
                    String name = in.readUTF();
                    String value = in.readUTF();
                    if (value.equals(UNLINKABLE)) {
                        throw new NoClassDefFoundError("com/example/Gone");
                    }
                    attributes.put(name, value);
                }
                return new SessionContent(attributes, null);
            } catch (IOException e) {
                throw new TranscoderException("not a string map", e);
            }
        }
    }

    private MemcachedServer server1;
    private MemcachedServer server2;
    private SessionEngine engine;

    @BeforeEach
    void start() throws Exception {
        server1 = MemcachedServer.start();
        server2 = MemcachedServer.start();
        Settings settings = Settings.parse(Map.of(
                "memcachedNodes", server1.node("n1") + "," + server2.node("n2"),
                "sessionBackupAsync", "false",
                "sessionBackupTimeout", "2000"));
        engine = SessionEngine.start(settings, new StringMapTranscoder(), List.of(), PREFIX, "test",
                Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        // Each close on its own line, so a failure in one still stops the memcached processes.
        try {
            if (engine != null) {
                engine.close();
            }
        } finally {
            try {
                server1.close();
            } finally {
                server2.close();
            }
        }
        assertFalse(server1.isRunning() || server2.isRunning(), "memcached processes outlive the test");
    }

    private MemcachedServer serverOf(SessionId id) {
        return id.nodeId().equals("n1") ? server1 : server2;
    }

    private MemcachedServer otherServer(SessionId id) {
        return serverOf(id) == server1 ? server2 : server1;
    }

    private SessionId newId() {
        String random = UUID.randomUUID().toString().replace("-", "").toUpperCase();
        return SessionId.parse(engine.newSessionId(random, ROUTE));
    }

    private static SessionSnapshot snapshot(SessionId id, Map<String, Object> attributes) {
        return new SessionSnapshot(id, 1_700_000_000_000L, 1_700_000_000_500L, 1800, null,
                new SessionContent(attributes, null));
    }

    private long count(Statistics.Counter counter) {
        return engine.statistics().get(counter);
    }

    /**
     * Threads made while a webapp starts, or by its requests, take that thread's context class loader:
     * the webapp's. One that is still ending after a reload would keep every class of the stopped webapp
     * reachable. None of the engine's may keep it.
     */
    @Test
    void noThreadOfTheEngineKeepsTheContextClassLoaderOfTheThreadsThatMadeIt() throws Exception {
        ClassLoader webapp = new java.net.URLClassLoader(new java.net.URL[0], null);
        Thread current = Thread.currentThread();
        ClassLoader previous = current.getContextClassLoader();
        SessionEngine other = null;
        current.setContextClassLoader(webapp);
        try {
            Settings settings = Settings.parse(Map.of("memcachedNodes", server1.node("n1") + "," + server2.node("n2")));
            other = SessionEngine.start(settings, new StringMapTranscoder(), List.of(), "loader_", "loader",
                    Clock.systemUTC());
            SessionId id = SessionId.parse(other.newSessionId(UUID.randomUUID().toString().replace("-", "")
                    .toUpperCase(), ROUTE));
            other.sticky().afterRequest(snapshot(id, Map.of("user", "alice")), new SessionState()); // a backup thread
            Await.until("the backup stored", WAIT, () -> serverOf(id).get("loader_" + id) != null);
        } finally {
            current.setContextClassLoader(previous);
        }
        try {
            List<String> engineThreads = new java.util.ArrayList<>();
            List<String> keeping = new java.util.ArrayList<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t != current && t.getName().contains("loader") || t.getName().startsWith("Memcached IO")) {
                    engineThreads.add(t.getName());
                }
                if (t != current && t.getContextClassLoader() == webapp) {
                    keeping.add(t.getName());
                }
            }
            assertTrue(engineThreads.stream().anyMatch(n -> n.startsWith("msm-backup-loader")), engineThreads.toString());
            assertTrue(engineThreads.stream().anyMatch(n -> n.startsWith("Memcached IO")), engineThreads.toString());
            assertEquals(List.of(), keeping, "threads keeping the starting thread's context class loader");
        } finally {
            other.close();
        }
    }

    @Test
    void newSessionIdNamesAConfiguredNodeAndTheRoute() {
        SessionId sid = newId();

        assertNotNull(sid);
        assertTrue(sid.nodeId().equals("n1") || sid.nodeId().equals("n2"), sid.toString());
        assertEquals(ROUTE, sid.jvmRoute());
    }

    @Test
    void backupLandsOnTheNodeTheIdNamesOnly() throws Exception {
        SessionId id = newId();

        engine.sticky().afterRequest(snapshot(id, Map.of("user", "alice")), new SessionState());

        byte[] stored = serverOf(id).get(PREFIX + id);
        assertNotNull(stored, "node " + id.nodeId() + " holds the session");
        assertNull(otherServer(id).get(PREFIX + id), "the other node does not");
        SessionFrame frame = SessionFrame.decode(stored);
        assertEquals(200, frame.transcoderId);
        assertEquals(1800, frame.maxInactiveInterval);
    }

    @Test
    void unchangedSessionIsNotStoredAgain() {
        SessionId id = newId();
        SessionState state = new SessionState();
        engine.sticky().afterRequest(snapshot(id, Map.of("user", "alice")), state);
        assertEquals(1, count(Statistics.Counter.BACKUPS_STORED));

        engine.sticky().afterRequest(snapshot(id, Map.of("user", "alice")), state);

        assertEquals(1, count(Statistics.Counter.BACKUPS_STORED));
        assertEquals(1, count(Statistics.Counter.BACKUPS_SKIPPED_UNCHANGED) + count(Statistics.Counter.BACKUPS_TOUCHED));
    }

    @Test
    void changedSessionIsStoredAgain() {
        SessionId id = newId();
        SessionState state = new SessionState();
        engine.sticky().afterRequest(snapshot(id, Map.of("user", "alice")), state);
        byte[] first = serverOf(id).get(PREFIX + id);

        engine.sticky().afterRequest(snapshot(id, Map.of("user", "bob")), state);

        assertEquals(2, count(Statistics.Counter.BACKUPS_STORED));
        assertFalse(java.util.Arrays.equals(first, serverOf(id).get(PREFIX + id)));
    }

    @Test
    void loadIntoAFreshStateReturnsTheStoredSession() {
        SessionId id = newId();
        engine.sticky().afterRequest(snapshot(id, Map.of("user", "alice", "cart", "3 items")), new SessionState());

        SessionState fresh = new SessionState();
        SessionSnapshot loaded = engine.sticky().load(id, fresh);

        assertNotNull(loaded);
        assertEquals(Map.of("user", "alice", "cart", "3 items"), loaded.content().attributes());
        assertEquals(1_700_000_000_000L, loaded.creationTime());
        assertEquals(1800, loaded.maxInactiveInterval());
        assertTrue(fresh.isBackedUp(id), "the loaded state knows memcached holds this content");
        assertEquals(1, count(Statistics.Counter.LOADS));
    }

    @Test
    void loadOfAMissingSessionIsNull() {
        assertNull(engine.sticky().load(newId(), new SessionState()));
        assertEquals(1, count(Statistics.Counter.LOAD_MISSES));
    }

    @Test
    void garbageUnderTheKeyLoadsAsMissingAndIsCounted() {
        SessionId id = newId();
        serverOf(id).set(PREFIX + id, "<html>not a session</html>".getBytes(StandardCharsets.US_ASCII), 0);

        assertNull(engine.sticky().load(id, new SessionState()));
        assertEquals(1, count(Statistics.Counter.UNDECODABLE_SESSIONS));
    }

    @Test
    void aPlantedPartsIndexLoadsAsMissingNeverAsAnErrorOrAHugeAllocation() {
        // parts, length: negative, zero, or far beyond what msm writes
        int[][] shapes = {{1, -1}, {-1, 100}, {0, 0}, {Integer.MAX_VALUE, 100}, {2, Integer.MAX_VALUE}, {1, 5_000_000},
            {64, 64_000_000}}; // the last is sane, but its parts are missing: nothing is allocated for it
        for (int[] shape : shapes) {
            SessionId id = newId();
            byte[] index = java.nio.ByteBuffer.allocate(29).put(new byte[] {0, 'm', 's', 'p', 1}).putLong(7)
                    .putInt(shape[0]).putInt(shape[1]).putLong(0).array();
            serverOf(id).set(PREFIX + id, index, 0);

            assertNull(engine.sticky().load(id, new SessionState()), java.util.Arrays.toString(shape));
        }
    }

    @Test
    void frameWhosePayloadDoesNotDecodeLoadsAsMissing() {
        SessionId id = newId();
        byte[] frame = new SessionFrame(200, 0, 0, 1800, null, new byte[] {1, 2}).encode();
        serverOf(id).set(PREFIX + id, frame, 0);

        assertNull(engine.sticky().load(id, new SessionState()));
        assertEquals(1, count(Statistics.Counter.UNDECODABLE_SESSIONS));
    }

    @Test
    void removedDeletesTheKey() {
        SessionId id = newId();
        SessionState state = new SessionState();
        engine.sticky().afterRequest(snapshot(id, Map.of("user", "alice")), state);
        assertNotNull(serverOf(id).get(PREFIX + id));

        engine.sticky().removed(id, state);

        Await.until("session to be deleted from memcached", WAIT, () -> serverOf(id).get(PREFIX + id) == null);
    }

    @Test
    void sessionMovesToTheOtherNodeOnceABackupFindsItsNodeDead() {
        SessionId id = newId();
        SessionState state = new SessionState();
        engine.sticky().afterRequest(snapshot(id, Map.of("user", "alice")), state);
        assertNull(engine.sticky().movedId(id, ROUTE), "a session on a live node keeps its id");
        String otherNode = id.nodeId().equals("n1") ? "n2" : "n1";

        serverOf(id).kill();
        // spymemcached notices a dead idle connection only when an operation is sent on it,
        // so the node is found dead by the next backup of a changed session.
        engine.sticky().afterRequest(snapshot(id, Map.of("user", "bob")), state);
        Await.until("the backup to the dead node to fail", WAIT, () -> !state.isBackedUp(id));

        SessionId[] moved = new SessionId[1];
        Await.until("movedId to name node " + otherNode, WAIT, () -> {
            moved[0] = engine.sticky().movedId(id, ROUTE);
            return moved[0] != null;
        });
        SessionId target = moved[0];
        assertEquals(otherNode, target.nodeId());
        assertEquals(id.random(), target.random());
        assertEquals(ROUTE, target.jvmRoute());
        assertEquals(0, count(Statistics.Counter.RELOCATIONS), "counted when a session is renamed, not before");
        engine.sticky().moved(id, target, 1800); // as the adapter does once it renamed the session in memory
        assertEquals(1, count(Statistics.Counter.RELOCATIONS));

        // The renamed session is stored on the node that is up.
        engine.sticky().afterRequest(snapshot(moved[0], Map.of("user", "bob")), state);
        assertNotNull(otherServer(id).get(PREFIX + moved[0]));
        assertTrue(state.isBackedUp(moved[0]));
    }

    @Test
    void withEveryNodeDeadTheRequestGoesOnAndTheSessionIsBackedUpOnceItsNodeReturns() {
        SessionId id = newId();
        SessionState state = new SessionState();
        engine.sticky().afterRequest(snapshot(id, Map.of("user", "alice")), state);
        assertTrue(state.isBackedUp(id));

        server1.kill();
        server2.kill();
        assertDoesNotThrow(() -> engine.sticky().afterRequest(snapshot(id, Map.of("user", "bob")), state));
        Await.until("the failed backup to be noticed", WAIT, () -> !state.isBackedUp(id));
        assertFalse(engine.sticky().needsBackup(id, state), "nothing to do while the node is down");

        serverOf(id).restart();

        Await.until("needsBackup once node " + id.nodeId() + " is back", WAIT,
                () -> engine.sticky().needsBackup(id, state));
        engine.sticky().afterRequest(snapshot(id, Map.of("user", "bob")), state);
        byte[] stored = serverOf(id).get(PREFIX + id);
        assertNotNull(stored, "the restarted node holds the session again");
        assertArrayEquals(new StringMapTranscoder().encode(new SessionContent(Map.of("user", "bob"), null)),
                assertDoesNotThrow(() -> SessionFrame.decode(stored)).payload);
    }
}

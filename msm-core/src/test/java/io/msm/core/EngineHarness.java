package io.msm.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An engine on the in-memory store, fake time and executors the test drives: two nodes, n1 and n2,
 * and a string-map transcoder. Each harness is one Tomcat; two harnesses on one store are two
 * Tomcats of a cluster.
 */
final class EngineHarness implements AutoCloseable {
    static final String PREFIX = "test_";

    final FakeTime time;
    final InMemoryStore store;
    final ManualExecutor backups = new ManualExecutor();
    final ManualScheduler healthChecks;
    final ManualScheduler comparisons;
    final SessionEngine engine;

    private EngineHarness(FakeTime time, InMemoryStore store, Map<String, String> attributes) throws Exception {
        this.time = time;
        this.store = store;
        this.healthChecks = new ManualScheduler(time);
        this.comparisons = new ManualScheduler(time);
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put(Settings.MEMCACHED_NODES, "n1:127.0.0.1:1,n2:127.0.0.1:2");
        raw.putAll(attributes);
        Settings settings = Settings.parse(raw);
        EngineEnvironment env = new EngineEnvironment(new PartedStore(store), time, time, backups, healthChecks,
                settings.sticky() && settings.backupAsync() ? comparisons : null, "/test");
        this.engine = SessionEngine.start(settings, new SessionEngineIT.StringMapTranscoder(), List.of(), PREFIX,
                SessionEngine.DEFAULT_RANDOM_LENGTH, env);
    }

    /** @param attributes context-file attributes beyond memcachedNodes, name then value */
    static EngineHarness start(String... attributes) throws Exception {
        FakeTime time = new FakeTime(1_700_000_000_000L);
        return new EngineHarness(time, new InMemoryStore(time, "n1", "n2"), pairs(attributes));
    }

    /** Another Tomcat of the same cluster whose wall clock is {@code clock} ({@link FakeTime#aheadBy}). */
    EngineHarness secondTomcat(FakeTime clock, String... attributes) throws Exception {
        return new EngineHarness(clock, store, pairs(attributes));
    }

    /** Another Tomcat of the same cluster: same store, same time. */
    EngineHarness secondTomcat(String... attributes) throws Exception {
        return new EngineHarness(time, store, pairs(attributes));
    }

    private static Map<String, String> pairs(String... attributes) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < attributes.length; i += 2) {
            map.put(attributes[i], attributes[i + 1]);
        }
        return map;
    }

    SessionId newId(String random, String route) {
        return SessionId.parse(engine.newSessionId(random, route));
    }

    /** One health-check round, as the engine's thread runs it once a second. */
    void checkNodes() {
        healthChecks.runDue();
    }

    long count(Statistics.Counter counter) {
        return engine.statistics().get(counter);
    }

    /** @return the changes of a request that set these attributes */
    static SessionChanges setting(String... names) {
        SessionChanges changes = new SessionChanges();
        for (String name : names) {
            changes.attributeSet(name);
        }
        return changes;
    }

    static SessionSnapshot snapshot(SessionId id, long lastAccess, Map<String, Object> attributes) {
        return new SessionSnapshot(id, 1_700_000_000_000L, lastAccess, 1800, null, new SessionContent(attributes, null));
    }

    @Override
    public void close() {
        engine.close();
    }
}

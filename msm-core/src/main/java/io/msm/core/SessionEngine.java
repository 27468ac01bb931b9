package io.msm.core;

import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;

/**
 * The engine an adapter talks to, and where its parts are put together: it names new sessions,
 * checks ids, and hands out the sticky or the non-sticky sessions, whichever mode the settings
 * chose. It never sees a Tomcat class, and nothing it does throws into a request: a memcached
 * problem is logged, counted, and the session stays in memory.
 */
public final class SessionEngine implements AutoCloseable {
    private static final Logger LOG = Logs.get(SessionEngine.class);
    /** How long a node that failed an operation is skipped before it is tried again. */
    static final long PROBE_INTERVAL_MILLIS = 2000;
    /** Tomcat's default: 16 random bytes, written as 32 hexadecimal digits. */
    static final int DEFAULT_RANDOM_LENGTH = 32;

    private final Settings settings;
    private final EngineEnvironment env;
    private final Statistics statistics = new Statistics();
    private final NodeHealth health;
    private final HealthCheck healthCheck;
    private final BackupService backups;
    private final DeferredComparisons comparisons;
    private final StickySessions sticky;
    private final NonStickySessions nonSticky;
    private final SessionIdFormat ids;
    private final SessionNames names;
    /** Null until {@link #claimRoute}. */
    private volatile RouteClaims routeClaims;
    /** Non-sticky: that every Tomcat lists the same nodes in the same order; null in sticky mode. */
    private final NodeListCheck nodeListCheck;
    private final ModeCheck modeCheck;

    private SessionEngine(Settings settings, Transcoder writer, List<Transcoder> readers, String keyPrefix,
            Msm2Format msm2Format, int randomLength, EngineEnvironment env) {
        this.settings = settings;
        this.env = env;
        this.ids = new SessionIdFormat(settings.nodes(), randomLength, statistics, new OncePerMinute(env.clock));
        SessionStore store = env.store;
        Expiry expiry = new Expiry(env.clock);
        EncryptionKeys keys = settings.encryptionKeys();
        SessionNames names = new SessionNames(keyPrefix, keys, settings.readUnencryptedSessions());
        this.names = names;
        statistics.countedBy(Statistics.Counter.ATTRIBUTES_LEFT_OUT, writer::attributesLeftOut);
        SessionCodec codec = new SessionCodec(writer, readers, statistics, expiry, names,
                keys == null ? null : new FrameCipher(keys), settings.readUnencryptedSessions(),
                new OncePerMinute(env.clock));
        this.health = new NodeHealth(settings.nodes(), store::isConnected, env.clock, env.ticker,
                PROBE_INTERVAL_MILLIS, Math.max(NodeHealth.MIN_HUNG_NEWS_MILLIS, settings.nodes().size()
                        * (settings.operationTimeoutMillis() + PROBE_INTERVAL_MILLIS) * 2));
        this.backups = new BackupService(env.backupPool, statistics, env.webapp);
        this.modeCheck = new ModeCheck(settings.sticky(), keys, settings.readUnencryptedSessions(), names,
                settings.nodes(), store, health, env.webapp, new OncePerMinute(env.clock), statistics);
        if (settings.sticky()) {
            this.comparisons = env.comparisons == null ? null : new DeferredComparisons(env.comparisons, expiry);
            Msm2Copies msm2 = Msm2Copies.create(settings, msm2Format, keyPrefix, statistics, expiry,
                    new OncePerMinute(env.clock));
            StickyBackups stickyBackups = new StickyBackups(store, health, backups, codec, expiry, statistics,
                    env.ticker, env.clock, names, settings, msm2);
            this.sticky = new StickySessions(store, health, codec, statistics, env.ticker, names, stickyBackups,
                    comparisons, msm2, new OncePerMinute(env.clock), new MovedMarks(store, health, names, expiry));
            this.nonSticky = null;
            this.nodeListCheck = null;
            this.healthCheck = new HealthCheck(settings.nodes(), store, health, env.ticker, statistics, env.clock,
                    HealthCheck.ProbeKeys.NONE, null); // sticky Tomcats compare no times across Tomcats
        } else {
            this.comparisons = null;
            this.sticky = null;
            NonStickyKeys nonStickyKeys = new NonStickyKeys(names, settings.nodes(),
                    new ValiditySeal(keys == null ? null : keys.validityKey(), env.clock));
            BehindFlags flags = new BehindFlags(store, nonStickyKeys, settings.nodes(), env.ticker, expiry);
            this.nonSticky = nonSticky(settings, nonStickyKeys, flags, store, expiry, codec);
            this.nodeListCheck = new NodeListCheck(names, settings.nodes(), store, health, env.webapp,
                    new OncePerMinute(env.clock), statistics);
            this.healthCheck = new HealthCheck(settings.nodes(), store, health, env.ticker, statistics, env.clock,
                    flags, new ClockCheck(new OncePerMinute(env.clock)));
        }
    }

    private NonStickySessions nonSticky(Settings settings, NonStickyKeys keys, BehindFlags flags, SessionStore store,
            Expiry expiry, SessionCodec codec) {
        List<MemcachedNode> nodes = settings.nodes();
        if (nodes.size() == 1) {
            LOG.warn("msm for {}: non-sticky sessions have no backup copy: memcachedNodes lists one node, and its"
                    + " loss or restart loses every session; list a second node to keep a copy there", env.webapp);
        }
        ExpiryWatch watch = new ExpiryWatch(expiry);
        ClusterWriter cluster = new ClusterWriter(store, health, keys, statistics, flags);
        SessionLocks locks = new SessionLocks(store, health, statistics, settings.lockExpirationSeconds(),
                settings.lockWaitTimeoutMillis(), env.ticker, new OncePerMinute(env.clock));
        // A removal while the session's node does not answer raises its flag first (BehindFlags).
        long removalWaitMillis = Math.max(1000, 2L * settings.operationTimeoutMillis()) + BehindFlags.LEASE_MILLIS;
        NearCopies nearCopies = new NearCopies();
        AccessRecords accessRecords = new AccessRecords(expiry, keys, backups, cluster);
        PendingRemovals removals = new PendingRemovals(backups);
        return new NonStickySessions(health,
                new NonStickyLocking(settings.lockingMode(), locks, keys, statistics),
                new NonStickyLoader(store, health, keys, codec, expiry, statistics, watch, cluster, backups, env.ticker,
                        nearCopies, new MissingSessions(statistics, env.clock), new BackupMarkers(store, health, keys,
                                flags, settings.operationTimeoutMillis(), env.clock), new OncePerMinute(env.clock),
                        accessRecords, removals),
                new NonStickyWriter(store, health, keys, codec, expiry, statistics, watch, cluster, backups, flags,
                        removalWaitMillis, nearCopies, new BackupCopies(store, health, keys, cluster, backups,
                                statistics, settings.backupTimeoutMillis(), new OncePerMinute(env.clock)),
                        new OncePerMinute(env.clock), accessRecords, removals),
                new ClusterExpiry(store, health, keys, codec, expiry, statistics, watch, cluster),
                new RecentSessions(env.clock));
    }

    /**
     * Connects to the nodes and returns at once when they answer, or after a short wait when some
     * do not: an unreachable memcached never stops the webapp.
     *
     * @param writer the transcoder for new frames
     * @param readers further transcoders, for frames written by an earlier configuration
     * @param name for thread names and logs, e.g. the context path
     */
    public static SessionEngine start(Settings settings, Transcoder writer, List<Transcoder> readers,
            String keyPrefix, String name, Clock clock) throws IOException {
        return start(settings, writer, readers, keyPrefix, DEFAULT_RANDOM_LENGTH, name, clock);
    }

    /**
     * @param randomLength the length of the random part of the container's session ids, which
     *     {@link #knownId} accepts ({@link KeyLimits#check} makes sure every key fits memcached)
     */
    public static SessionEngine start(Settings settings, Transcoder writer, List<Transcoder> readers,
            String keyPrefix, int randomLength, String name, Clock clock) throws IOException {
        return start(settings, writer, readers, keyPrefix, null, randomLength, name, clock);
    }

    /** @param msm2Format how memcached-session-manager 2.3.2 keys and writes sessions; null without compatibility */
    public static SessionEngine start(Settings settings, Transcoder writer, List<Transcoder> readers,
            String keyPrefix, Msm2Format msm2Format, int randomLength, String name, Clock clock) throws IOException {
        long maxContentBytes = writer.maxContentBytes();
        for (Transcoder reader : readers) {
            maxContentBytes = Math.max(maxContentBytes, reader.maxContentBytes());
        }
        return start(settings, writer, readers, keyPrefix, msm2Format, randomLength,
                EngineEnvironment.real(settings, name, clock, maxContentBytes));
    }

    static SessionEngine start(Settings settings, Transcoder writer, List<Transcoder> readers, String keyPrefix,
            int randomLength, EngineEnvironment env) {
        return start(settings, writer, readers, keyPrefix, null, randomLength, env);
    }

    static SessionEngine start(Settings settings, Transcoder writer, List<Transcoder> readers, String keyPrefix,
            Msm2Format msm2Format, int randomLength, EngineEnvironment env) {
        SessionEngine engine;
        try {
            engine = new SessionEngine(settings, writer, readers, keyPrefix, msm2Format, randomLength, env);
        } catch (RuntimeException | Error e) {
            env.close(); // its client and executor threads would otherwise outlive this failed start
            throw e;
        }
        try {
            env.store.awaitConnections(Math.min(settings.operationTimeoutMillis(), 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (MemcachedNode node : settings.nodes()) {
            if (!env.store.isConnected(node.id())) {
                LOG.warn("msm for {}: memcached node {} does not answer at start; its share of sessions goes to the"
                        + " other nodes until it does", env.webapp, node);
            }
        }
        engine.repeat(engine.healthCheck, 0, HealthCheck.INTERVAL_MILLIS, "check of the memcached nodes");
        engine.repeat(engine.modeCheck, ModeCheck.REFRESH_MILLIS, ModeCheck.REFRESH_MILLIS,
                "check that every Tomcat runs the same mode");
        if (engine.nodeListCheck != null) {
            engine.repeat(engine.nodeListCheck, NodeListCheck.REFRESH_MILLIS, NodeListCheck.REFRESH_MILLIS,
                    "check that every Tomcat lists the same memcachedNodes");
        }
        return engine;
    }

    /**
     * Sticky mode: keeps this Tomcat's claim on its jvmRoute, and logs when another Tomcat runs the
     * webapp with the same route ({@link RouteClaims}).
     */
    public void claimRoute(String jvmRoute) {
        if (sticky == null) {
            return;
        }
        RouteClaims claims = new RouteClaims(jvmRoute == null ? "" : jvmRoute, names, settings.nodes(), env.store,
                health, env.webapp, new OncePerMinute(env.clock), statistics);
        routeClaims = claims;
        repeat(claims, 0, RouteClaims.REFRESH_MILLIS, "claim of the jvmRoute");
    }

    private void repeat(Runnable task, long firstMillis, long everyMillis, String what) {
        Repeated.schedule(env.healthChecks, task, firstMillis, everyMillis, what, env.webapp, new OncePerMinute(env.clock));
    }

    public Statistics statistics() {
        return statistics;
    }

    /** Runs the check of the mode now, as its schedule does every 10 s. */
    void checkMode() {
        modeCheck.run();
    }

    /** Runs the non-sticky check of the node list now, as its schedule does every 10 s. */
    void checkNodeList() {
        nodeListCheck.run();
    }

    /** @return the sticky sessions, or null in non-sticky mode */
    public StickySessions sticky() {
        return sticky;
    }

    /** @return the non-sticky sessions, or null in sticky mode */
    public NonStickySessions nonSticky() {
        return nonSticky;
    }

    /**
     * Every id from a request passes here before anything uses it.
     *
     * @return the id parsed, or null when it is not one of msm's ids for this cluster (counted,
     *     logged at most once a minute per kind)
     */
    public SessionId knownId(String id) {
        return ids.check(id);
    }

    /**
     * For a session this Tomcat holds in memory only: its id checked for form but not for its node,
     * which may have left {@code memcachedNodes} since (sticky mode then moves the session).
     *
     * @return the id parsed, or null when it is not in msm's form
     */
    public SessionId heldId(String id) {
        return ids.checkHeld(id);
    }

    /** @return true when {@code requestUriIgnorePattern} is set: only then is a request's URI looked at */
    public boolean ignoresSomeUris() {
        return settings.requestUriIgnorePattern() != null;
    }

    /** @return true for a request whose URI matches {@code requestUriIgnorePattern} */
    public boolean isIgnored(String requestUri) {
        boolean ignored = ignoresSomeUris() && settings.requestUriIgnorePattern().matcher(requestUri).matches();
        if (ignored) {
            statistics.increment(Statistics.Counter.REQUESTS_IGNORED);
        }
        return ignored;
    }

    /**
     * @param random the random part, from the container's secure generator
     * @param jvmRoute this Tomcat's route; null in non-sticky mode, where no Tomcat owns a session
     */
    public String newSessionId(String random, String jvmRoute) {
        return (settings.nodeInNewIds() ? SessionId.of(random, health.pick().id(), jvmRoute)
                : SessionId.withoutNode(random, health.pick().id(), jvmRoute)).toString();
    }

    /** Parses an id this engine gave or accepts, quietly: null when it is not of msm's form. */
    public SessionId parseId(String id) {
        return SessionId.parse(id, settings.implicitNode());
    }

    NodeHealth health() {
        return health;
    }

    BackupService backups() {
        return backups;
    }

    /** @return every memcached node as a monitor sees it */
    public List<NodeStatus> nodeStatus() {
        return health.status();
    }

    /** @return sessions with a backup, deletion or cluster write waiting */
    public int backupQueueLength() {
        return backups.waiting();
    }

    /** @return non-sticky sessions this Tomcat served in the last minute; 0 in sticky mode */
    public int nonStickySessionsLastMinute() {
        return nonSticky == null ? 0 : nonSticky.recentSessions();
    }

    /**
     * @return by name, the entries of every collection the engine keeps for sessions or pending
     *     writes: a soak run samples them to see that none grows without bound
     */
    public Map<String, Integer> heldEntries() {
        Map<String, Integer> held = new LinkedHashMap<>();
        held.put("BackupSlots", backups.waiting());
        held.put("NodeRepairs", health.repairsWaiting());
        if (sticky != null) {
            sticky.heldEntries(held);
        } else {
            nonSticky.heldEntries(held);
        }
        return held;
    }

    /**
     * Compares the sessions whose comparison was deferred, stops the backup threads after the queued
     * backups ran (bounded), then closes the connections.
     */
    @Override
    public void close() {
        // Each step even when one before it fails: the memcached client's threads hold the webapp's class
        // loader, and a reload that skipped its close would leak them, and their sockets, every time.
        try {
            healthCheck.stop();
            env.healthChecks.shutdownNow();
            if (comparisons != null) {
                comparisons.flush(); // sessions changed lately: compared before the last backups
            }
        } finally {
            try {
                backups.shutdown(Math.max(2000, 2 * settings.operationTimeoutMillis()));
                if (sticky != null) {
                    sticky.queueUndoneDeletes();
                } else {
                    int undone = nonSticky.queueUndoneRemovals();
                    if (undone > 0) {
                        LOG.warn("msm for {}: {} session removal(s) (logouts, expiries, ids from before a login) still"
                                + " queued at this stop are handed to the next start of this webapp in this JVM",
                                env.webapp, undone);
                    }
                }
                awaitStopped(env.healthChecks);
                awaitStopped(env.comparisons);
                RouteClaims claims = routeClaims;
                if (claims != null) {
                    claims.release(); // after the health thread: nothing renews it again
                }
                modeCheck.release();
            } finally {
                env.store.close();
            }
        }
    }

    /**
     * @return after {@link #close}: the deletes and markers that nodes which did not answer missed,
     *     for the next start of this webapp in this JVM ({@link #takeOver})
     */
    public LeftRepairs leftRepairs() {
        return health.left();
    }

    /**
     * Before the first request: does what the stopped engine of this webapp left undone, before it
     * offers the nodes concerned.
     *
     * @return how many deletes and markers were taken over
     */
    public int takeOver(LeftRepairs left) {
        int taken = health.takeOver(left);
        // Done now where the node answers: queued, they keep it out of use until the health check's
        // next round, and a sticky webapp just started loads every session from memcached.
        for (String node : left.nodes()) {
            try {
                health.repair(env.store, node);
            } catch (StoreException e) {
                health.failed(node, e); // still down: done by the health check once it answers
            }
        }
        return taken;
    }

    /** Bounded: a thread left running when the webapp stops is reported by Tomcat as a leak. */
    private static void awaitStopped(ExecutorService executor) {
        if (executor == null) {
            return;
        }
        try {
            executor.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

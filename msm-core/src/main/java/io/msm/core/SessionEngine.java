package io.msm.core;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine an adapter talks to: it names new sessions, decides when a session must move,
 * loads sessions from memcached, backs them up after requests and deletes them when they end.
 * It never sees a Tomcat class, and nothing it does throws into a request: a memcached problem is
 * logged, counted, and the session stays in memory.
 */
public final class SessionEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionEngine.class);
    /** How long a node that failed an operation is skipped before it is tried again. */
    static final long PROBE_INTERVAL_MILLIS = 2000;
    /**
     * How often every node is asked a cheap question. A killed node is noticed this quickly even
     * while no session changes: spymemcached sees a dead connection only when it sends something.
     */
    static final long HEALTH_CHECK_MILLIS = 1000;
    /**
     * With asynchronous backups, how long a session that a request did not change through the
     * session API (only read, or changed in place) may wait for its comparison with memcached.
     */
    static final long IN_PLACE_CHECK_MILLIS = 1000;
    /**
     * With asynchronous backups, how long a change made through the session API may wait when the
     * session was compared less than this long ago. The first change after a quiet spell is written
     * at once; a session changed by request after request is written once per this window, at its
     * end, instead of transcoded for every request: most of what a write costs the request thread.
     */
    public static final long CHANGE_WINDOW_MILLIS = 100;
    private static final String PROBE_KEY = "msm:probe";
    /** memcached reads an expiry beyond 30 days as an absolute Unix time. */
    private static final int MAX_RELATIVE_EXPIRY = 30 * 24 * 3600;

    private final Settings settings;
    private final SessionStore store;
    private final NodeHealth health;
    private final BackupService backups;
    private final Statistics statistics = new Statistics();
    private final Transcoder writer;
    private final Map<Integer, Transcoder> readers = new HashMap<>();
    private final String keyPrefix;
    private final Clock clock;
    private final ScheduledExecutorService healthChecks;
    private final ScheduledExecutorService deferredComparisons;
    /** What each scheduled comparison runs, so that close() can run those still waiting. */
    private final Map<SessionState, Runnable> pendingComparisons = new ConcurrentHashMap<>();
    private final NonStickySessions nonSticky;
    /**
     * Sticky mode: ids of sessions removed here whose copies are not deleted yet, with the number of
     * removals still to run. A lookup right after a logout or an expiry (the same request asks
     * again) must not load the copy back.
     */
    private final Map<String, Integer> beingRemoved = new ConcurrentHashMap<>();

    private SessionEngine(Settings settings, Transcoder writer, List<Transcoder> readers, String keyPrefix,
            String name, Clock clock) throws IOException {
        this.settings = settings;
        this.writer = writer;
        this.readers.put(writer.id(), writer);
        for (Transcoder reader : readers) {
            this.readers.putIfAbsent(reader.id(), reader);
        }
        this.keyPrefix = keyPrefix;
        this.clock = clock;
        this.store = new SessionStore(settings.nodes(), settings);
        this.health = new NodeHealth(settings.nodes(), store::isConnected, clock, PROBE_INTERVAL_MILLIS);
        this.backups = new BackupService(settings.backupThreadCount(), settings.backupQueueSize(),
                "msm-backup-" + name, statistics);
        this.nonSticky = settings.sticky() ? null
                : new NonStickySessions(this, store, health, statistics, settings, keyPrefix);
        this.healthChecks = singleDaemonThread("msm-health-" + name);
        this.deferredComparisons = settings.sticky() && settings.backupAsync() ? singleDaemonThread("msm-compare-" + name)
                : null;
    }

    private static ScheduledExecutorService singleDaemonThread(String name) {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
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
        SessionEngine engine = new SessionEngine(settings, writer, readers, keyPrefix, name, clock);
        try {
            engine.store.awaitConnections(Math.min(settings.operationTimeoutMillis(), 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (MemcachedNode node : settings.nodes()) {
            if (!engine.store.isConnected(node.id())) {
                LOG.warn("memcached node {} does not answer at start; its share of sessions goes to the other nodes"
                        + " until it does", node);
            }
        }
        engine.healthChecks.scheduleWithFixedDelay(engine::checkNodes, 0, HEALTH_CHECK_MILLIS, TimeUnit.MILLISECONDS);
        return engine;
    }

    /** Asks every connected node for a key that is not there; the answer, or its absence, is its health. */
    private void checkNodes() {
        for (MemcachedNode node : settings.nodes()) {
            String id = node.id();
            if (!store.isConnected(id)) {
                // spymemcached is reconnecting; marked down so that its return is noticed (NodeHealth.backSince)
                health.markDown(id, "connection lost");
                continue;
            }
            long start = System.nanoTime();
            try {
                store.get(id, PROBE_KEY);
                long nanos = System.nanoTime() - start;
                health.repair(store, id);
                health.recordSuccess(id, nanos);
            } catch (StoreException e) {
                if (healthChecks.isShutdown()) {
                    return; // the webapp stops and interrupted the probe: the node is fine
                }
                health.markDown(id, e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("health check of memcached node {} failed unexpectedly", node, e);
            }
        }
    }

    public Statistics statistics() {
        return statistics;
    }

    /** @return the non-sticky operations, or null in sticky mode */
    public NonStickySessions nonSticky() {
        return nonSticky;
    }

    long now() {
        return clock.millis();
    }

    Transcoder writer() {
        return writer;
    }

    BackupService backups() {
        return backups;
    }

    byte[] frame(SessionSnapshot s, byte[] payload) {
        return new SessionFrame(writer.id(), s.creationTime(), s.lastAccessedTime(), s.maxInactiveInterval(),
                s.authType(), payload).encode();
    }

    /** @return true for a request whose URI matches {@code requestUriIgnorePattern} */
    public boolean isIgnored(String requestUri) {
        boolean ignored = settings.requestUriIgnorePattern() != null
                && settings.requestUriIgnorePattern().matcher(requestUri).matches();
        if (ignored) {
            statistics.increment(Statistics.Counter.REQUESTS_IGNORED);
        }
        return ignored;
    }

    /** @param random the random part, from the container's secure generator */
    public String newSessionId(String random, String jvmRoute) {
        return SessionId.of(random, health.pick().id(), jvmRoute).toString();
    }

    /**
     * @return the id the session must take before this request goes on (this Tomcat's route, a
     *     node that is up, a regular node rather than a failover one), or null when it may keep its id
     */
    public String movedId(String id, String jvmRoute) {
        SessionId current = SessionId.parse(id);
        if (current == null) {
            return null;
        }
        SessionId target = current;
        String route = jvmRoute == null || jvmRoute.isEmpty() ? null : jvmRoute;
        if (route == null ? current.jvmRoute() != null : !route.equals(current.jvmRoute())) {
            target = target.withRoute(route);
        }
        if (health.shouldMove(current.nodeId())) {
            MemcachedNode node = health.pick();
            if (!node.id().equals(current.nodeId())) {
                target = target.withNode(node.id());
                statistics.increment(Statistics.Counter.RELOCATIONS);
                LOG.info("session {} moves from memcached node {} to {}", SessionId.masked(id), current.nodeId(), node);
            }
        }
        return target == current ? null : target.toString();
    }

    /**
     * Loads a session another Tomcat stored, or one this Tomcat lost from memory.
     *
     * @param state receives what memcached holds, so an unchanged session is not written back
     * @return null when memcached has no usable copy: missing, node down, or bytes that do not decode
     */
    public SessionSnapshot load(String id, SessionState state) {
        SessionId sid = SessionId.parse(id);
        if (sid == null || !health.isKnown(sid.nodeId())) {
            return null;
        }
        if (beingRemoved.containsKey(id)) {
            return null;
        }
        String node = sid.nodeId();
        if (!health.isUp(node)) {
            statistics.increment(Statistics.Counter.LOAD_FAILURES);
            LOG.info("session {} cannot be loaded: memcached node {} is down", SessionId.masked(id), node);
            return null;
        }
        long start = System.nanoTime();
        byte[] bytes;
        try {
            bytes = store.get(node, keyPrefix + id);
            health.recordSuccess(node, System.nanoTime() - start);
        } catch (StoreException e) {
            health.markDown(node, e.getMessage());
            statistics.increment(Statistics.Counter.LOAD_FAILURES);
            LOG.warn("session {} cannot be loaded: {}", SessionId.masked(id), e.getMessage());
            return null;
        } finally {
            statistics.addLoadNanos(System.nanoTime() - start);
        }
        if (bytes == null) {
            statistics.increment(Statistics.Counter.LOAD_MISSES);
            return null;
        }
        SessionSnapshot snapshot = decode(id, node, bytes, state);
        if (snapshot != null) {
            statistics.increment(Statistics.Counter.LOADS);
        }
        return snapshot;
    }

    SessionSnapshot decode(String id, String node, byte[] bytes, SessionState state) {
        try {
            SessionFrame frame = SessionFrame.decode(bytes);
            Transcoder transcoder = readers.get(frame.transcoderId);
            if (transcoder == null) {
                throw new FrameException("written with transcoder id " + frame.transcoderId
                        + ", which this Tomcat is not configured with");
            }
            SessionContent content = transcoder.decode(frame.payload);
            state.loaded(id, Fingerprint.of(frame.payload, frame.creationTime, frame.maxInactiveInterval,
                    frame.authType), clock.millis());
            return new SessionSnapshot(id, frame.creationTime, frame.lastAccessedTime, frame.maxInactiveInterval,
                    frame.authType, content);
        } catch (FrameException | TranscoderException e) {
            statistics.increment(Statistics.Counter.UNDECODABLE_SESSIONS);
            LOG.warn("session {} on memcached node {} does not decode and is treated as missing: {}",
                    SessionId.masked(id), node, e.getMessage());
            return null;
        }
    }

    /**
     * Sticky mode, after a request: whether {@link #afterRequest} must run now. With synchronous
     * backups, always. With asynchronous ones a session is transcoded and compared with memcached at
     * most once per {@value #CHANGE_WINDOW_MILLIS} ms when requests change it through the session
     * API (attributes set or removed, login, timeout), and at most once per
     * {@value #IN_PLACE_CHECK_MILLIS} ms when they only read it (or change values in place);
     * {@link #compareLater} covers the last request of a burst. Transcoding is most of what a backup
     * costs the request thread.
     *
     * @param changedThroughApi true when the request set or removed an attribute, logged in or out,
     *     or changed the timeout
     */
    public boolean mustCompareNow(String id, SessionState state, boolean changedThroughApi) {
        if (deferredComparisons == null || !state.isBackedUp(id)) {
            return true;
        }
        if (changedThroughApi) {
            state.changePending = true;
        }
        return clock.millis() - state.lastComparedMillis >= window(state);
    }

    private static long window(SessionState state) {
        return state.changePending ? CHANGE_WINDOW_MILLIS : IN_PLACE_CHECK_MILLIS;
    }

    /**
     * Runs {@code compare} once, when the session's comparison is due, unless one is scheduled for
     * then or earlier already. {@code compare} calls {@link #afterRequest} if no request uses the
     * session then; otherwise that request's end compares it.
     */
    public void compareLater(SessionState state, Runnable compare) {
        compareLater(state, compare, 0);
    }

    /**
     * As {@link #compareLater(SessionState, Runnable)}, but not before {@code minDelayMillis}: for
     * a comparison that found the session still in use by a request whose end has already passed
     * its own check (Tomcat counts a request out only after the valves returned).
     */
    public void compareLater(SessionState state, Runnable compare, long minDelayMillis) {
        if (deferredComparisons == null) {
            return;
        }
        long due = Math.max(state.lastComparedMillis + window(state), clock.millis() + minDelayMillis);
        while (true) {
            long scheduled = state.compareScheduledFor.get();
            if (scheduled != 0 && scheduled <= due) {
                return;
            }
            if (state.compareScheduledFor.compareAndSet(scheduled, due)) {
                break;
            }
        }
        pendingComparisons.put(state, compare);
        try {
            deferredComparisons.schedule(() -> {
                state.compareScheduledFor.compareAndSet(due, 0);
                pendingComparisons.remove(state, compare);
                try {
                    compare.run();
                } catch (RuntimeException e) {
                    LOG.error("deferred backup of a session failed; it is compared again after its next request", e);
                }
            }, Math.max(0, due - clock.millis()), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            state.compareScheduledFor.compareAndSet(due, 0); // stopping: close() flushes the last backups
        }
    }

    /**
     * Backs up a session after a request: nothing when it is unchanged and its expiry in memcached
     * is fresh, a touch when only the expiry must move, the whole session otherwise. Asynchronous
     * unless {@code sessionBackupAsync="false"}, which waits up to {@code sessionBackupTimeout}.
     */
    public void afterRequest(SessionSnapshot snapshot, SessionState state) {
        afterRequest(() -> snapshot, state);
    }

    /**
     * As {@link #afterRequest(SessionSnapshot, SessionState)}, taking the snapshot once no other
     * backup of the session is being prepared: backups of one session are so encoded, queued and sent
     * in the order their snapshots were taken, and an older one never overwrites a newer one.
     */
    public void afterRequest(Supplier<SessionSnapshot> snapshot, SessionState state) {
        // With sessionBackupAsync="false" the wait for memcached's answer is inside too: the requests
        // of one session that end together are backed up one after the other, in order.
        synchronized (state.backupOrder) {
            backUp(snapshot.get(), state);
        }
    }

    private void backUp(SessionSnapshot snapshot, SessionState state) {
        SessionId sid = SessionId.parse(snapshot.id());
        if (sid == null) {
            return;
        }
        // Before encoding: a request ending meanwhile sees this comparison and does not start another.
        long now = clock.millis();
        state.lastComparedMillis = now;
        state.changePending = false;
        byte[] payload = writer.encode(snapshot.content());
        long fingerprint = Fingerprint.of(payload, snapshot.creationTime(), snapshot.maxInactiveInterval(),
                snapshot.authType());
        int maxInactive = snapshot.maxInactiveInterval();
        long refreshMillis = refreshSeconds(maxInactive) * 1000L;
        // Compared with the newest content on its way to memcached too: a request that puts back what
        // memcached still holds must not be skipped while an older change waits to overwrite it.
        long queued = state.queuedFingerprint.get();
        boolean unchanged = fingerprint == (queued != 0 ? queued : state.storedFingerprint)
                && snapshot.id().equals(state.storedUnderId);
        if (unchanged && now - state.lastRefreshMillis < refreshMillis) {
            statistics.increment(Statistics.Counter.BACKUPS_SKIPPED_UNCHANGED);
            return;
        }
        String node = sid.nodeId();
        if (!health.isUp(node)) {
            statistics.increment(Statistics.Counter.BACKUPS_FAILED);
            state.backupMissed();
            LOG.debug("session {} not backed up: memcached node {} is down", SessionId.masked(snapshot.id()), node);
            return;
        }
        byte[] frame = frame(snapshot, payload);
        if (!unchanged) {
            state.queuedFingerprint.set(fingerprint);
        }
        if (settings.backupAsync()) {
            backups.submit(state, new StoreJob(snapshot.id(), node, frame, expiry(maxInactive), fingerprint, unchanged,
                    state, null));
        } else if (unchanged) {
            await(backups.submit(state, new StoreJob(snapshot.id(), node, frame, expiry(maxInactive), fingerprint, true,
                    state, null)), snapshot.id());
        } else {
            storeWhileWaiting(snapshot.id(), node, frame, expiry(maxInactive), fingerprint, state);
        }
    }

    /**
     * @return true for a session whose latest content memcached does not hold although its node is
     *     up again, such as one created while every node was down; the adapter backs it up
     */
    public boolean needsBackup(String id, SessionState state) {
        SessionId sid = SessionId.parse(id);
        return sid != null && !state.isBackedUp(id) && health.isUp(sid.nodeId());
    }

    /** Deletes an invalidated or expired session from memcached, after any backup still queued for it. */
    public void removed(String id, SessionState state) {
        state.removed = true; // a store of it still queued, or still being encoded, is dropped
        submitRemoval(id, state);
    }

    /** Counted per removal, so that an id stays refused until the last removal of it has run. */
    private void submitRemoval(String id, SessionState state) {
        beingRemoved.merge(id, 1, Integer::sum);
        backups.submit(state, new RemovalJob(id, state));
    }

    /** Deletes a removed session's copies; a store that comes while it waits does not replace it. */
    private final class RemovalJob implements BackupService.Job {
        /** One per removal merged into this job: usually one, more after a rename or a repeat. */
        private final List<String> ids = new ArrayList<>(2);
        private final SessionState state;

        RemovalJob(String id, SessionState state) {
            this.ids.add(id);
            this.state = state;
        }

        @Override
        public boolean removes() {
            return true;
        }

        @Override
        public BackupService.Job absorb(BackupService.Job waiting) {
            if (waiting instanceof RemovalJob) {
                ((RemovalJob) waiting).ids.addAll(ids); // both ids deleted, both leave beingRemoved
                return waiting;
            }
            return this;
        }

        @Override
        public void run() {
            try {
                for (String id : ids) {
                    delete(id);
                }
                String stale = state.storedUnderId;
                if (stale != null && !ids.contains(stale)) {
                    delete(stale);
                }
                state.storedFingerprint = 0;
                state.storedUnderId = null;
            } finally {
                // Deleted, or a repair keeps the node unused until it is.
                for (String id : ids) {
                    beingRemoved.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
                }
            }
        }
    }

    private void delete(String id) {
        SessionId sid = SessionId.parse(id);
        if (sid == null || !health.isKnown(sid.nodeId())) {
            return;
        }
        String node = sid.nodeId();
        try {
            statistics.increment(health.deleteOrRepairLater(store, node, keyPrefix + id)
                    ? Statistics.Counter.DELETES : Statistics.Counter.DELETE_FAILURES);
        } catch (StoreException e) {
            statistics.increment(Statistics.Counter.DELETE_FAILURES);
            LOG.info("session {} could not be deleted from memcached ({}); deleted once node {} answers again",
                    SessionId.masked(id), e.getMessage(), node);
        }
    }

    /**
     * {@code sessionBackupAsync="false"}: the request thread sends the set itself and waits for the
     * answer up to {@code sessionBackupTimeout}; a backup thread waits for the rest. Waiting
     * requests so never queue behind the few backup threads.
     */
    private void storeWhileWaiting(String id, String node, byte[] frame, int expiry, long fingerprint,
            SessionState state) {
        if (state.removed) {
            return;
        }
        SessionStore.Sent sent;
        try {
            sent = store.send(node, keyPrefix + id, frame, expiry);
        } catch (StoreException e) {
            new StoreJob(id, node, frame, expiry, fingerprint, false, state, null).failed(e);
            return;
        }
        if (state.removed) {
            // Removed while this request encoded it: its deletion may have run before this set.
            submitRemoval(id, state);
            return;
        }
        StoreJob job = new StoreJob(id, node, frame, expiry, fingerprint, false, state, sent);
        if (sent.awaitAnswer(settings.backupTimeoutMillis())) {
            job.run();
        } else {
            statistics.increment(Statistics.Counter.BACKUP_WAITS_TIMED_OUT);
            LOG.debug("backup of session {} still running after sessionBackupTimeout={} ms; the request goes on",
                    SessionId.masked(id), settings.backupTimeoutMillis());
            backups.submit(state, job);
        }
    }

    private void await(Future<Void> done, String id) {
        try {
            done.get(settings.backupTimeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            statistics.increment(Statistics.Counter.BACKUP_WAITS_TIMED_OUT);
            LOG.debug("backup of session {} still running after sessionBackupTimeout={} ms; the request goes on",
                    SessionId.masked(id), settings.backupTimeoutMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("backup of session {} failed", SessionId.masked(id), e.getCause());
        }
    }

    /**
     * How long the expiry in memcached may lag behind the session's last access: a tenth of the
     * idle timeout, at most a minute. Stored entries live that much longer than the timeout, so a
     * session only read still outlives its timeout in memcached without a write per request.
     */
    static int refreshSeconds(int maxInactive) {
        return maxInactive <= 0 ? 0 : Math.min(maxInactive / 10, 60);
    }

    /** @return how long a stored copy outlives its session's last access; for a positive timeout */
    static long lifetimeSeconds(int maxInactive) {
        return (long) maxInactive + refreshSeconds(maxInactive);
    }

    int expiry(int maxInactive) {
        if (maxInactive <= 0) {
            return 0;
        }
        long seconds = lifetimeSeconds(maxInactive);
        return seconds <= MAX_RELATIVE_EXPIRY ? (int) seconds
                : (int) Math.min(Integer.MAX_VALUE, clock.millis() / 1000 + seconds);
    }

    /**
     * Compares the sessions whose comparison was deferred, stops the backup threads after the queued
     * backups ran (bounded), then closes the connections.
     */
    @Override
    public void close() {
        healthChecks.shutdownNow();
        if (deferredComparisons != null) {
            deferredComparisons.shutdownNow(); // its queued tasks cancel themselves if run now
            for (Runnable compare : pendingComparisons.values()) {
                compare.run(); // sessions changed lately: compared before the last backups
            }
            pendingComparisons.clear();
        }
        backups.shutdown(Math.max(2000, 2 * settings.operationTimeoutMillis()));
        awaitStopped(healthChecks);
        awaitStopped(deferredComparisons);
        store.close();
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

    /** Writes one session to its node; on failure the session stays in memory, flagged for a retry. */
    private final class StoreJob implements BackupService.Job {
        private final String id;
        private final String node;
        private final byte[] frame;
        private final int expiry;
        private final long fingerprint;
        private final boolean touchOnly;
        private final SessionState state;
        /** A set the request thread sent already; null when this job writes. */
        private final SessionStore.Sent sent;
        private final long created = System.nanoTime();
        private final long seq;

        StoreJob(String id, String node, byte[] frame, int expiry, long fingerprint, boolean touchOnly,
                SessionState state, SessionStore.Sent sent) {
            this.id = id;
            this.node = node;
            this.frame = frame;
            this.expiry = expiry;
            this.fingerprint = fingerprint;
            this.touchOnly = touchOnly;
            this.state = state;
            this.sent = sent;
            this.seq = ++state.lastBackupSeq; // constructed while state.backupOrder is held
        }

        @Override
        public void run() {
            long start = sent == null ? System.nanoTime() : created;
            if (sent == null && (state.removed || state.isOutdated(seq))) {
                return; // invalidated or expired since, or newer content is there already
            }
            try {
                String key = keyPrefix + id;
                // A touch that finds nothing (evicted, or the node restarted empty) stores in full, and
                // so does one that took the place of a waiting store: memcached does not hold this yet.
                boolean holdsThis = state.storedFingerprint == fingerprint && id.equals(state.storedUnderId);
                boolean touched = touchOnly && holdsThis && store.touch(node, key, expiry);
                if (sent != null) {
                    store.finish(sent);
                } else if (!touched) {
                    store.set(node, key, frame, expiry);
                }
                long elapsed = System.nanoTime() - start;
                health.recordSuccess(node, elapsed);
                statistics.addBackupNanos(elapsed);
                statistics.increment(touched ? Statistics.Counter.BACKUPS_TOUCHED : Statistics.Counter.BACKUPS_STORED);
                String stale = state.recordStored(seq, id, fingerprint, clock.millis());
                if (!stale.equals(id)) {
                    delete(stale);
                }
            } catch (StoreException e) {
                failed(e);
            }
        }

        void failed(StoreException e) {
            health.markDown(node, e.getMessage());
            state.backupMissed();
            statistics.increment(Statistics.Counter.BACKUPS_FAILED);
            LOG.warn("backup of session {} failed ({}); it stays in this Tomcat's memory and is stored again"
                    + " on a node that answers", SessionId.masked(id), e.getMessage());
        }
    }
}

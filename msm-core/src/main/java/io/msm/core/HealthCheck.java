package io.msm.core;

import java.util.List;

import org.slf4j.Logger;

/**
 * Asks every connected node for a key that is not there, once a second; the answer, or its absence,
 * is the node's health. A killed node is noticed this quickly even while no session changes:
 * the memcached client sees a dead connection only when it sends something. A node that answers
 * again first gets the writes it missed ({@link NodeRepairs}), then requests.
 */
final class HealthCheck implements Runnable {
    private static final Logger LOG = Logs.get(HealthCheck.class);
    /** How often every node is asked. */
    static final long INTERVAL_MILLIS = 1000;
    /** Kept on every node by this engine alone; its absence after a restart says the node came back empty. */
    private static final String ALIVE_PREFIX = "msm:alive:";
    private static final int ALIVE_EXPIRY_SECONDS = 2 * 86_400;
    private static final long ALIVE_REFRESH_MILLIS = 86_400_000L;
    private static final byte[] ALIVE = {1};

    private final List<MemcachedNode> nodes;
    private final SessionStore store;
    private final NodeHealth health;
    private final Ticker ticker;
    private final String aliveKey = ALIVE_PREFIX + java.util.UUID.randomUUID();
    /** Nodes that refused the marker's last set (out of memory); the health thread alone uses it. */
    private final java.util.Set<String> markerRefused = new java.util.HashSet<>();
    /** When this engine last wrote its marker on each node; absent until it did. */
    private final java.util.Map<String, Long> markedAt = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * A connection on which nothing arrived for this long while a probe waits for its answer is made
     * anew once a new connection to the node answers: a firewall that forgot it leaves it silent, and
     * the kernel gives it up only after minutes of retransmissions. Bytes that arrive (a large value
     * on a slow link, answers read after a pause of this Tomcat) show the connection is alive.
     */
    static final long SILENT_CONNECTION_MILLIS = 10_000;
    /** When a silent connection's node was last asked over a new connection (ms of the ticker); health thread only. */
    private final java.util.Map<String, Long> silentCheckedAt = new java.util.HashMap<>();
    private volatile boolean stopping;
    /** Per node: the store's {@link SessionStore#clientGeneration} at the last answered probe. */
    private final java.util.Map<String, Integer> generations = new java.util.concurrent.ConcurrentHashMap<>();
    private final ProbeKeys probeKeys;

    /** Further keys read with a node's probe, in the same round trip, and who hears what was found. */
    interface ProbeKeys {
        ProbeKeys NONE = new ProbeKeys() {
            @Override
            public List<String> keysOn(String node) {
                return java.util.Collections.emptyList();
            }

            @Override
            public void heard(String node, java.util.Map<String, byte[]> found, long sentNanos) {
            }
        };

        List<String> keysOn(String node);

        /** @param sentNanos when the probe was sent (ticker nanos) */
        void heard(String node, java.util.Map<String, byte[]> found, long sentNanos);
    }

    private final Statistics statistics;
    /** How often each node's eviction count is read. */
    static final long EVICTION_CHECK_MILLIS = 10_000;
    /** Per node: its eviction count at the last reading, and when that was (ticker millis). */
    private final java.util.Map<String, long[]> evictions = new java.util.concurrent.ConcurrentHashMap<>();
    /** An eviction WARN per node at most once a minute; the counter counts every eviction. */
    private final OncePerMinute evictionLines;
    /** Evictions not yet in a WARN, per node. */
    private final java.util.Map<String, Long> evictedUnlogged = new java.util.concurrent.ConcurrentHashMap<>();
    /** A node's own word on why it fails is asked for, and logged, at most once a minute per node. */
    private final OncePerMinute diagnoses;

    /** Null in sticky mode. */
    private final ClockCheck clockCheck;
    private final java.time.Clock clock;

    HealthCheck(List<MemcachedNode> nodes, SessionStore store, NodeHealth health, Ticker ticker,
            Statistics statistics, java.time.Clock clock, ProbeKeys probeKeys, ClockCheck clockCheck) {
        this.probeKeys = probeKeys;
        this.clockCheck = clockCheck;
        this.clock = clock;
        this.statistics = statistics;
        this.diagnoses = new OncePerMinute(clock);
        this.evictionLines = new OncePerMinute(clock);
        this.nodes = nodes;
        this.store = store;
        this.health = health;
        this.ticker = ticker;
    }

    /** The webapp stops: a probe it interrupts says nothing about the node. */
    void stop() {
        stopping = true;
    }

    /**
     * Keeps this engine's marker on the node. A marker written before and missing now means the node
     * lost what it held (a restart, a flush): what this Tomcat holds for it is written again.
     */
    private void mark(String id, boolean present) throws StoreException {
        Long at = markedAt.get(id);
        long now = ticker.nanoTime() / 1_000_000;
        if (present && at != null && now - at < ALIVE_REFRESH_MILLIS) {
            return;
        }
        if (!present && at != null) {
            statistics.increment(Statistics.Counter.NODES_FOUND_EMPTY);
            health.foundEmpty(id);
        }
        try {
            store.set(id, aliveKey, ALIVE, ALIVE_EXPIRY_SECONDS);
        } catch (StoreException e) {
            if (!e.isRefused()) {
                throw e;
            }
            // Full (memcached -M): it deleted the marker whose set it refused. Missing for that reason, the
            // marker must not read as a restart at every round (each a WARN, and every session written
            // again); the first set it takes again stands for a restart meanwhile (storesAgain).
            markedAt.remove(id);
            markerRefused.add(id);
            if (evictionLines.allow("marker " + id)) {
                LOG.warn("memcached node {} refuses msm's small marker item ({}): it is out of memory, and may refuse"
                        + " sessions as well; give it more memory (-m) or more nodes; this line repeats at most once a"
                        + " minute", id, e.getMessage());
            }
            return;
        }
        if (markerRefused.remove(id)) {
            health.storesAgain(id);
        }
        markedAt.put(id, now);
    }

    /** See {@link #SILENT_CONNECTION_MILLIS}; runs on the health thread alone, after a probe timed out. */
    private void reconnectIfSilent(MemcachedNode node) {
        long now = ticker.nanoTime() / 1_000_000;
        Long checked = silentCheckedAt.get(node.id());
        if (stopping || (checked != null && now - checked < SILENT_CONNECTION_MILLIS)
                || !store.silentFor(node.id(), SILENT_CONNECTION_MILLIS)) {
            return; // a hung node is asked over a new connection once per such span, not at every probe
        }
        silentCheckedAt.put(node.id(), now);
        if (store.answersOnNewConnection(node.id())) {
            LOG.warn("memcached node {}: nothing arrived over msm's connection to it for {} s while a new connection"
                    + " answers at once (a firewall between them that forgot the connection, say): msm drops the"
                    + " connection and makes a new one", node, SILENT_CONNECTION_MILLIS / 1000);
            store.reconnect(node.id(), SILENT_CONNECTION_MILLIS);
        }
    }

    /**
     * A node that refuses our credentials looks to the client like any failing node, and the client
     * logs only "Auth failure" without naming it: the node is asked, and its answer logged once a
     * minute while it lasts. The node stays down; sessions stay in memory.
     */
    private void diagnose(MemcachedNode node) {
        if (stopping || !diagnoses.allow(node.id())) {
            return;
        }
        String problem = store.problemReportedBy(node.id());
        if (problem != null) {
            LOG.error("memcached node {} {}. It counts as down: sessions stay in this Tomcat's memory and go to"
                    + " other nodes; this line repeats at most once a minute while it lasts", node, problem);
        }
    }

    /**
     * memcached evicts items when it runs out of memory: sessions then vanish without an error, and
     * with non-sticky sessions a user is logged out once both copies went. The node's own count is
     * read every {@link #EVICTION_CHECK_MILLIS}, counted as ITEMS_EVICTED, and logged.
     */
    private void checkEvictions(MemcachedNode node) {
        long now = ticker.nanoTime() / 1_000_000;
        long[] last = evictions.get(node.id());
        if (last != null && now - last[1] < EVICTION_CHECK_MILLIS) {
            return;
        }
        NodeStatistics read;
        try {
            read = store.statistics(node.id());
        } catch (StoreException e) {
            return; // the probe above answered; a statistics read that fails says nothing new
        }
        if (clockCheck != null) {
            clockCheck.heard(node.id(), read.timeSeconds, clock.millis());
        }
        long count = read.evictions;
        if (count < 0) {
            return;
        }
        evictions.put(node.id(), new long[] {count, now});
        long delta = last == null || count < last[0] ? 0 : count - last[0]; // lower: the node restarted
        if (delta == 0) {
            return;
        }
        statistics.add(Statistics.Counter.ITEMS_EVICTED, delta);
        long unlogged = evictedUnlogged.merge(node.id(), delta, Long::sum);
        if (evictionLines.allow(node.id())) {
            evictedUnlogged.remove(node.id());
            LOG.warn("memcached node {} evicted {} items since the last such line: it has too little memory for what"
                    + " it holds, and evicted sessions are lost (non-sticky: once both copies are gone). Give it more"
                    + " memory (-m) or add a node; ITEMS_EVICTED counts every eviction", node, unlogged);
        }
    }

    /**
     * One plain read per key, after the probe answered: a bulk read reports a node that refuses us
     * (bad credentials) as one holding none of the keys, and no Tomcat may take "no flag" from that.
     * A node holds one such key per node it backs up: one more read a second.
     */
    private void hearProbeKeys(String id) throws StoreException {
        List<String> keys = probeKeys.keysOn(id);
        if (keys.isEmpty()) {
            return;
        }
        long sent = ticker.nanoTime();
        java.util.Map<String, byte[]> found = new java.util.HashMap<>();
        for (String key : keys) {
            byte[] value = store.get(id, key);
            if (value != null) {
                found.put(key, value);
            }
        }
        probeKeys.heard(id, found, sent);
    }

    @Override
    public void run() {
        try {
            checkAll();
        } catch (RuntimeException | LinkageError e) {
            // A scheduled task that throws is never run again: every node's health would freeze as it is.
            LOG.error("health check of the memcached nodes failed unexpectedly; it runs again", e);
        }
    }

    private void checkAll() {
        for (MemcachedNode node : nodes) {
            if (stopping) {
                return;
            }
            try {
                check(node);
            } catch (RuntimeException | LinkageError e) {
                // Also from the handling of a failed probe: the other nodes are checked all the same.
                LOG.error("health check of memcached node {} failed unexpectedly", node, e);
            }
        }
    }

    private void check(MemcachedNode node) {
        String id = node.id();
        store.replaceIfDead(id); // a client whose IO thread died still says it is connected
        if (!store.isConnected(id)) {
            // the client is reconnecting; marked down so that its return is noticed (NodeHealth.backSince)
            health.markDown(id, "connection lost");
            diagnose(node);
            return;
        }
        long start = ticker.nanoTime();
        boolean answered = false;
        try {
            byte[] marker = store.get(id, aliveKey);
            long nanos = ticker.nanoTime() - start;
            hearProbeKeys(id); // small reads sent with the probe: unanswered, the node hangs as much
            answered = true;
            health.recordProbe(id, nanos);
            // Answered: what requests queue for the node from now on does not hold it back.
            health.recordSuccess(id, nanos);
            // Connected to another server since the last round (its name moved): what it holds, even a
            // marker of ours from long ago, is not what this Tomcat wrote since.
            int generation = store.clientGeneration(id);
            Integer before = generations.put(id, generation);
            boolean sameServer = before == null || before == generation;
            if (!sameServer) {
                statistics.increment(Statistics.Counter.NODES_MOVED);
            }
            if ((marker == null || !sameServer) && markedAt.containsKey(id)) {
                health.dropRepairs(id); // restarted or flushed: it holds nothing left to correct
            }
            health.repair(store, id);
            mark(id, marker != null && sameServer);
            checkEvictions(node);
        } catch (StoreException e) {
            if (stopping) {
                return;
            }
            if (answered) {
                // The probe's read was answered: a later step failed (a repair, the marker), which takes
                // the node out of use but does not say it hangs (NodeHealth.probeFailedLately).
                health.failed(id, e);
            } else {
                health.probeFailed(id, e);
                if (e.isTimeout()) {
                    reconnectIfSilent(node);
                }
            }
            diagnose(node);
        }
    }
}

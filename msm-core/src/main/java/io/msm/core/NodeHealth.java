package io.msm.core;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

import org.slf4j.Logger;

/**
 * Which memcached nodes may be used now. A node is up while its connection is open and no
 * operation on it has failed within the last probe interval; after that interval the next
 * operation probes it again. New sessions go to regular nodes, to failover nodes only while no
 * regular node is up, and among the nodes allowed to the ones that answer fastest: whose recent
 * health-check round trips are within a margin of the best. Over one site all nodes answer alike
 * and share new sessions evenly; across sites a Tomcat gives them to its local memcached and keeps
 * the remote one for backup copies and failover.
 */
final class NodeHealth {
    private static final Logger LOG = Logs.get(NodeHealth.class);
    static final long MIN_HUNG_NEWS_MILLIS = 5_000;

    private final Map<String, State> states = new LinkedHashMap<>();
    private final Predicate<String> connected;
    private final Clock clock;
    private final long probeIntervalMillis;
    /** A probe of a node that went unanswered this recently, and none answered since, says it hangs. */
    private final long hungNewsMillis;
    private final NodeRepairs repairs;
    /** A node that flaps (refused credentials, a bad network) logs its "marked down" once a minute. */
    private final OncePerMinute downLines;

    NodeHealth(List<MemcachedNode> nodes, Predicate<String> connected, Clock clock, long probeIntervalMillis) {
        this(nodes, connected, clock, Ticker.SYSTEM, probeIntervalMillis);
    }

    NodeHealth(List<MemcachedNode> nodes, Predicate<String> connected, Clock clock, Ticker ticker,
            long probeIntervalMillis) {
        this(nodes, connected, clock, ticker, probeIntervalMillis, MIN_HUNG_NEWS_MILLIS);
    }

    /**
     * @param hungNewsMillis how long a failed probe says a node hangs: longer than the health check
     *     takes to probe every node once while some time out
     */
    NodeHealth(List<MemcachedNode> nodes, Predicate<String> connected, Clock clock, Ticker ticker,
            long probeIntervalMillis, long hungNewsMillis) {
        this.hungNewsMillis = hungNewsMillis;
        for (MemcachedNode node : nodes) {
            states.put(node.id(), new State(node, ticker));
        }
        this.connected = connected;
        this.clock = clock;
        this.probeIntervalMillis = probeIntervalMillis;
        this.downLines = new OncePerMinute(clock);
        this.repairs = new NodeRepairs(clock);
    }

    boolean isKnown(String nodeId) {
        return states.containsKey(nodeId);
    }

    /** @return true when requests may use the node: connected, no recent failure, nothing left to repair */
    boolean isUp(String nodeId) {
        State s = states.get(nodeId);
        return s != null && connected.test(nodeId) && clock.millis() >= s.downUntil && !repairs.isPending(nodeId);
    }

    /**
     * @return true when a node not offered may still be asked for a key as a last resort: connected,
     *     no delete of that key (a logout's) waits to be done there, none was dropped unknown, and the
     *     health check's probes do not find it silent (it hangs, its connection still open): each such
     *     operation would hold a request thread for operationTimeout, for ids anyone can send
     */
    boolean mayAskAnyway(String nodeId, String key) {
        return isConnected(nodeId) && !isDeleteWaiting(nodeId, key) && !droppedDeletes(nodeId)
                && !probeFailedLately(nodeId, hungNewsMillis);
    }

    /** @return true while the client holds a connection to the node, whether or not it is offered */
    boolean isConnected(String nodeId) {
        return states.containsKey(nodeId) && connected.test(nodeId);
    }

    /** @return true when a delete waiting for the node was dropped past the limit since it was last found empty */
    boolean droppedDeletes(String nodeId) {
        return repairs.droppedDeletes(nodeId);
    }

    /** @return true while this Tomcat's delete of the key waits to be done on the node */
    boolean isDeleteWaiting(String nodeId, String key) {
        return repairs.isDeleteQueued(nodeId, key);
    }

    /** @return writes waiting to be replayed on nodes that missed them */
    int repairsWaiting() {
        return repairs.size();
    }

    /**
     * Queues a write that missed the node. Queued while the node is down (a failure marked it so),
     * the node is not up again until it has run; queued while the node answers, it runs at the next
     * health check without holding the node back.
     */
    void repairLater(String nodeId, NodeRepairs.Repair repair) {
        State s = states.get(nodeId);
        if (s != null) {
            repairs.add(nodeId, repair, !connected.test(nodeId) || clock.millis() < s.downUntil);
        }
    }

    /**
     * Deletes a key on the node now or, while the node is down or when the delete fails, once it
     * answers again (a failure also marks it down).
     *
     * @return true when deleted now, false when queued because the node is down
     * @throws StoreException when the delete failed; it is queued all the same
     */
    boolean deleteOrRepairLater(SessionStore store, String nodeId, String key) throws StoreException {
        if (!isUp(nodeId)) {
            repairLater(nodeId, NodeRepairs.delete(key));
            return false;
        }
        try {
            store.delete(nodeId, key);
            return true;
        } catch (StoreException e) {
            failed(nodeId, e);
            repairLater(nodeId, NodeRepairs.delete(key));
            throw e;
        }
    }

    /** @return what the node's repairs still hold that a later engine can do; for a stopped engine */
    LeftRepairs left() {
        return repairs.left();
    }

    /**
     * Queues what a stopped engine of the same webapp left, as missed while the node was down: the
     * node is offered only once they ran. Those of a node no longer in {@code memcachedNodes} are dropped.
     *
     * @return how many were taken over
     */
    int takeOver(LeftRepairs left) {
        int taken = 0;
        for (java.util.Map.Entry<String, java.util.List<NodeRepairs.Repair>> e : left.byNode.entrySet()) {
            if (states.containsKey(e.getKey())) {
                for (NodeRepairs.Repair r : e.getValue()) {
                    repairs.add(e.getKey(), r, true);
                    taken++;
                }
            }
        }
        return taken;
    }

    /** The node came back empty: what it missed is moot, and it is offered again at once. */
    void dropRepairs(String nodeId) {
        repairs.drop(nodeId);
    }

    /**
     * Runs what the node missed, for the health check once the node answers, before it is up again.
     *
     * @throws StoreException when the node fails again; the rest stays queued
     */
    void repair(SessionStore store, String nodeId) throws StoreException {
        repairs.run(store, nodeId);
    }

    /** Records a failed operation, unless only its item was refused: then the node is fine. */
    void failed(String nodeId, StoreException e) {
        if (!e.isRefused()) {
            // The node the operation went to: a caller that tried two nodes in one block once marked the
            // wrong one down, and with the other restarting, no node was left for its sessions (soak).
            String failing = e.nodeId() != null && states.containsKey(e.nodeId()) ? e.nodeId() : nodeId;
            markDown(failing, e.getMessage());
        }
    }

    /** A health-check probe of the node that failed: as {@link #failed}, and remembered. */
    void probeFailed(String nodeId, StoreException e) {
        State s = states.get(nodeId);
        if (s != null && !e.isRefused()) {
            s.probeFailedAt = clock.millis();
        }
        failed(nodeId, e);
    }

    /**
     * @return true when the health check tried the node within the last {@code millis} and got no
     *     answer, and none since: it hangs. False when the check has not tried it lately (its thread
     *     is busy elsewhere): nothing is known then.
     */
    boolean probeFailedLately(String nodeId, long millis) {
        State s = states.get(nodeId);
        if (s == null || s.probeFailedAt == 0 || s.probeAnsweredAt >= s.probeFailedAt) {
            return false;
        }
        long since = clock.millis() - s.probeFailedAt;
        return since >= 0 && since < millis;
    }

    /** Records a failed operation; the node is skipped until the probe interval has passed. */
    void markDown(String nodeId, String reason) {
        State s = states.get(nodeId);
        if (s == null) {
            return;
        }
        long now = clock.millis();
        s.failures.incrementAndGet();
        boolean wasUp = now >= s.downUntil;
        s.downUntil = now + probeIntervalMillis;
        if (wasUp && downLines.allow(nodeId)) {
            s.downLogged = true;
            LOG.warn("memcached node {} marked down ({}); sessions on it move to other nodes, probing again in {} ms"
                    + " (this line repeats at most once a minute)", s.node, reason, probeIntervalMillis);
        }
    }

    /** Records a successful operation and how long it took, for choosing the fastest node. */
    void recordSuccess(String nodeId, long nanos) {
        State s = states.get(nodeId);
        if (s == null) {
            return;
        }
        if (s.downUntil != 0) {
            s.downUntil = 0;
            s.backSince = clock.millis();
            if (s.downLogged) {
                s.downLogged = false;
                LOG.info("memcached node {} answers again", s.node);
            }
        }
        s.latency.record(nanos);
    }

    /**
     * The node lost what it held (restarted empty, flushed): copies written to it before are gone.
     * Sessions compare {@link #epoch} with the one they were stored at, and are written again.
     */
    void foundEmpty(String nodeId) {
        State s = lostCopies(nodeId);
        if (s != null) {
            LOG.warn("memcached node {} came back empty (restarted or flushed): the sessions this Tomcat holds"
                    + " for it are written to it again", s.node);
        }
    }

    /**
     * The node stores again after it refused items (out of memory): each refused store deleted the copy
     * it would have replaced, and a restart while it refused went unnoticed. Taken as a node that may
     * have come back empty: what this Tomcat holds for it is written again.
     */
    void storesAgain(String nodeId) {
        State s = lostCopies(nodeId);
        if (s != null) {
            LOG.info("memcached node {} stores items again after refusing them: the sessions this Tomcat holds"
                    + " for it are written to it again, as the refused stores deleted copies there", s.node);
        }
    }

    /** @return the node's state, now saying that the node lost what it held; null for a node not known */
    private State lostCopies(String nodeId) {
        State s = states.get(nodeId);
        if (s != null) {
            s.epoch.incrementAndGet();
            s.emptySince = clock.millis();
        }
        return s;
    }

    /** @return when the node was last found empty, or 0 if never */
    long emptySince(String nodeId) {
        State s = states.get(nodeId);
        return s == null ? 0 : s.emptySince;
    }

    /** @return how often the node was found empty since start */
    long epoch(String nodeId) {
        State s = states.get(nodeId);
        return s == null ? 0 : s.epoch.get();
    }

    /**
     * Records the round trip of a health-check probe: the same small operation on every node once a
     * second, so the figures compare across nodes, unlike session operations whose sizes differ.
     */
    void recordProbe(String nodeId, long nanos) {
        State s = states.get(nodeId);
        if (s != null) {
            s.probeAnsweredAt = clock.millis();
            s.lastProbeNanos = nanos;
            s.probes.record(nanos);
        }
    }

    /** @return how many probe times of the node are kept for its median (at most five) */
    int probesKept(String nodeId) {
        State s = states.get(nodeId);
        return s == null ? 0 : s.probes.count();
    }

    /** @return every node as a monitor sees it */
    List<NodeStatus> status() {
        List<NodeStatus> all = new ArrayList<>(states.size());
        for (State s : states.values()) {
            all.add(new NodeStatus(s.node.id(), isUp(s.node.id()), s.lastProbeNanos / 1000, s.latency.summary(),
                    s.failures.get()));
        }
        return all;
    }

    /**
     * @return when the node last answered again after it had been down, or 0 if this Tomcat never saw
     *     it down: a node that hung or was cut off still holds what it held before, which can be
     *     older than what was written to other nodes meanwhile
     */
    long backSince(String nodeId) {
        State s = states.get(nodeId);
        return s == null ? 0 : s.backSince;
    }

    /**
     * @return the node for a new or relocated session; when no node is up, a regular node anyway,
     *     so the session has an id and is backed up as soon as that node answers
     */
    MemcachedNode pick() {
        List<State> up = new ArrayList<>();
        for (State s : states.values()) {
            if (!s.node.isFailover() && isUp(s.node.id())) {
                up.add(s);
            }
        }
        if (up.isEmpty()) {
            for (State s : states.values()) {
                if (s.node.isFailover() && isUp(s.node.id())) {
                    up.add(s);
                }
            }
        }
        if (up.isEmpty()) {
            List<State> regular = new ArrayList<>();
            for (State s : states.values()) {
                if (!s.node.isFailover()) {
                    regular.add(s);
                }
            }
            return regular.get(ThreadLocalRandom.current().nextInt(regular.size())).node;
        }
        // Read once: probes and loads record round trips meanwhile, and a median that rose between two
        // reads left the band empty (a 500 for a login in the soak run).
        long[] medians = new long[up.size()];
        long fastest = Long.MAX_VALUE;
        for (int i = 0; i < medians.length; i++) {
            medians[i] = up.get(i).probes.median();
            if (medians[i] > 0) {
                fastest = Math.min(fastest, medians[i]);
            }
        }
        // "Fastest" is a band, not a single node: nodes within twice the best time plus 1 ms share
        // the new sessions, so equal nodes stay evenly loaded. A node not probed yet is in the band: right
        // after start every node shares. One slow probe moves nothing once the next has answered (a median).
        long bound = fastest == Long.MAX_VALUE ? Long.MAX_VALUE : 2 * fastest + 1_000_000L;
        List<State> band = new ArrayList<>();
        for (int i = 0; i < medians.length; i++) {
            if (medians[i] <= bound) {
                band.add(up.get(i));
            }
        }
        return band.get(ThreadLocalRandom.current().nextInt(band.size())).node;
    }

    /**
     * @return true when a session held on this node should move: the node is down or unknown while
     *     another node is up, or it is a failover node while a regular node is up
     */
    boolean shouldMove(String nodeId) {
        State s = states.get(nodeId);
        if (s == null || !isUp(nodeId)) {
            MemcachedNode target = pick();
            return isUp(target.id());
        }
        if (s.node.isFailover()) {
            for (State other : states.values()) {
                if (!other.node.isFailover() && isUp(other.node.id())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static final class State {
        final MemcachedNode node;
        volatile long downUntil;
        final ProbeTimes probes = new ProbeTimes();
        volatile long backSince;
        volatile long emptySince;
        volatile long lastProbeNanos;
        /** Wall millis of the newest probe answered, and of the newest that failed; 0 for none. */
        volatile long probeAnsweredAt;
        volatile long probeFailedAt;
        volatile boolean downLogged;
        final java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong epoch = new java.util.concurrent.atomic.AtomicLong();
        final LatencyWindow latency;

        State(MemcachedNode node, Ticker ticker) {
            this.node = node;
            this.latency = new LatencyWindow(ticker);
        }
    }
}

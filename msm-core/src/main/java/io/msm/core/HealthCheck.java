package io.msm.core;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks every connected node for a key that is not there, once a second; the answer, or its absence,
 * is the node's health. A killed node is noticed this quickly even while no session changes:
 * the memcached client sees a dead connection only when it sends something. A node that answers
 * again first gets the writes it missed ({@link NodeRepairs}), then requests.
 */
final class HealthCheck implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthCheck.class);
    /** How often every node is asked. */
    static final long INTERVAL_MILLIS = 1000;
    private static final String PROBE_KEY = "msm:probe";

    private final List<MemcachedNode> nodes;
    private final SessionStore store;
    private final NodeHealth health;
    private final Ticker ticker;
    private volatile boolean stopping;

    HealthCheck(List<MemcachedNode> nodes, SessionStore store, NodeHealth health, Ticker ticker) {
        this.nodes = nodes;
        this.store = store;
        this.health = health;
        this.ticker = ticker;
    }

    /** The webapp stops: a probe it interrupts says nothing about the node. */
    void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        for (MemcachedNode node : nodes) {
            String id = node.id();
            if (!store.isConnected(id)) {
                // the client is reconnecting; marked down so that its return is noticed (NodeHealth.backSince)
                health.markDown(id, "connection lost");
                continue;
            }
            long start = ticker.nanoTime();
            try {
                store.get(id, PROBE_KEY);
                long nanos = ticker.nanoTime() - start;
                health.recordProbe(id, nanos);
                health.repair(store, id);
                health.recordSuccess(id, nanos);
            } catch (StoreException e) {
                if (stopping) {
                    return;
                }
                health.failed(id, e);
            } catch (RuntimeException e) {
                LOG.error("health check of memcached node {} failed unexpectedly", node, e);
            }
        }
    }
}

package io.msm.core;

import java.util.List;

import org.slf4j.Logger;

/**
 * One round of a background check over the nodes requests may use: a node that fails its part is
 * left to the health check, which judges it, and the round goes on with the others.
 */
final class UpNodes {
    /** One node's part of the round. */
    interface Step {
        void run(MemcachedNode node) throws StoreException;
    }

    private UpNodes() {
    }

    /**
     * At stop: deletes {@code key} on every node in use where it still holds what {@code ours} accepts;
     * best effort, as what is left expires by itself.
     */
    static void deleteIf(List<MemcachedNode> nodes, NodeHealth health, SessionStore store, String key,
            java.util.function.Predicate<byte[]> ours) {
        for (MemcachedNode node : nodes) {
            if (!health.isUp(node.id())) {
                continue;
            }
            try {
                byte[] found = store.get(node.id(), key);
                if (found != null && ours.test(found)) {
                    store.delete(node.id(), key);
                }
            } catch (StoreException | RuntimeException e) {
                // it expires by itself
            }
        }
    }

    /** @param what the check, for the once-a-minute WARN when a step fails unexpectedly */
    static void each(List<MemcachedNode> nodes, NodeHealth health, Step step, String what, String webapp,
            OncePerMinute lines, Logger log) {
        for (MemcachedNode node : nodes) {
            if (!health.isUp(node.id())) {
                continue;
            }
            try {
                step.run(node);
            } catch (StoreException e) {
                // The health check judges the node; the step is tried again next round.
            } catch (RuntimeException e) {
                if (lines.allow("failed " + node.id())) {
                    log.warn("msm for {}: the check that {} failed on node {}; this line repeats at most once a"
                            + " minute", webapp, what, node, e);
                }
            }
        }
    }
}

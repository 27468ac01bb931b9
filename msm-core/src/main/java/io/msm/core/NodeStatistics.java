package io.msm.core;

/** What a node's {@code stats} answer tells the health check; -1 where it does not tell. */
final class NodeStatistics {
    static final NodeStatistics UNKNOWN = new NodeStatistics(-1, -1);

    /** Items the node evicted since it started. */
    final long evictions;
    /** The node's clock, in Unix seconds. */
    final long timeSeconds;

    NodeStatistics(long evictions, long timeSeconds) {
        this.evictions = evictions;
        this.timeSeconds = timeSeconds;
    }
}

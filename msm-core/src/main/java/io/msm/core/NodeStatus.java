package io.msm.core;

/** One memcached node as a monitor sees it: up or down, and how fast it answered in the last minute. */
public final class NodeStatus {
    private final String id;
    private final boolean up;
    private final long lastProbeMicros;
    private final long operations;
    private final long meanMicros;
    private final long p99Micros;
    private final long failures;

    NodeStatus(String id, boolean up, long lastProbeMicros, long[] lastMinute, long failures) {
        this.id = id;
        this.up = up;
        this.lastProbeMicros = lastProbeMicros;
        this.operations = lastMinute[0];
        this.meanMicros = lastMinute[1];
        this.p99Micros = lastMinute[2];
        this.failures = failures;
    }

    public String id() {
        return id;
    }

    /** @return true while requests may use the node */
    public boolean up() {
        return up;
    }

    /** @return the round trip of the last health-check probe that was answered */
    public long lastProbeMicros() {
        return lastProbeMicros;
    }

    /** @return operations answered in the last minute */
    public long operationsLastMinute() {
        return operations;
    }

    public long meanMicrosLastMinute() {
        return meanMicros;
    }

    public long p99MicrosLastMinute() {
        return p99Micros;
    }

    /** @return operations that failed since start (timeouts, lost connections), refusals of an item not included */
    public long failures() {
        return failures;
    }
}

package io.msm.core;

/** One memcached server as the operator named it in {@code memcachedNodes}. */
public final class MemcachedNode {
    private final String id;
    private final String host;
    private final int port;
    private final boolean failover;
    /** False for a single node written as {@code host:port}, whose id msm made up. */
    private final boolean named;

    MemcachedNode(String id, String host, int port, boolean failover) {
        this(id, host, port, failover, true);
    }

    MemcachedNode(String id, String host, int port, boolean failover, boolean named) {
        this.named = named;
        this.id = id;
        this.host = host;
        this.port = port;
        this.failover = failover;
    }

    public String id() {
        return id;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** @return false for a single node written as {@code host:port}: its id "n1" is msm's */
    public boolean isNamed() {
        return named;
    }

    /** A failover node takes new sessions only while no regular node is up. */
    public boolean isFailover() {
        return failover;
    }

    @Override
    public String toString() {
        return id + " (" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port + (failover ? ", failover" : "")
                + ")";
    }
}

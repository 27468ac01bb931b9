package io.msm.core;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

import org.slf4j.Logger;

/**
 * Where each node's host name points. The memcached client connects, and reconnects, to the
 * address it was given, so a node that comes back under a new address (a replaced VM or container,
 * a moved DNS name) would stay down until Tomcat restarts. Each node named by a host name is
 * resolved again: every few seconds while its connection is lost, every minute while it is up. It
 * has moved when the address in use is no longer among the answers; an answer that still holds it
 * (a name with several addresses) changes nothing.
 */
final class NodeAddresses {
    private static final Logger LOG = Logs.get(NodeAddresses.class);
    static final long DOWN_RECHECK_MILLIS = 5_000;
    static final long UP_RECHECK_MILLIS = 60_000;

    /** Name resolution; tests give their own, the only part of them that is not real. */
    interface Resolver {
        Resolver DNS = node -> {
            List<InetSocketAddress> all = new ArrayList<>();
            for (InetAddress a : InetAddress.getAllByName(node.host())) {
                all.add(new InetSocketAddress(a, node.port()));
            }
            return all;
        };

        /** @return the node's addresses, in the resolver's order; never empty */
        List<InetSocketAddress> resolve(MemcachedNode node) throws UnknownHostException;
    }

    private final Map<String, MemcachedNode> named = new LinkedHashMap<>();
    private final Map<String, InetSocketAddress> inUse = new ConcurrentHashMap<>();
    private final Map<String, Long> checkedAt = new ConcurrentHashMap<>();
    private final Resolver resolver;
    private final Ticker ticker;
    private final long downRecheckMillis;
    private final long upRecheckMillis;
    private final OncePerMinute unresolvedLines = new OncePerMinute(java.time.Clock.systemUTC());

    /** Resolves every node once: a host that does not resolve at start stops the start. */
    NodeAddresses(List<MemcachedNode> nodes, Resolver resolver, Ticker ticker, long downRecheckMillis,
            long upRecheckMillis) throws IOException {
        this.resolver = resolver;
        this.ticker = ticker;
        this.downRecheckMillis = downRecheckMillis;
        this.upRecheckMillis = upRecheckMillis;
        for (MemcachedNode node : nodes) {
            List<InetSocketAddress> all;
            try {
                all = resolver.resolve(node);
            } catch (UnknownHostException e) {
                all = Collections.emptyList();
            }
            if (all.isEmpty()) {
                throw new IOException("the host '" + node.host() + "' of node " + node.id() + " does not resolve on"
                        + " this machine (a typo, or no DNS at start); write a host name it resolves, or an IP address");
            }
            inUse.put(node.id(), all.get(0));
            if (!isAddressLiteral(node.host())) {
                named.put(node.id(), node);
            }
        }
    }

    /** An IP address names itself: there is nothing to resolve again. */
    static boolean isAddressLiteral(String host) {
        return host.indexOf(':') >= 0 || host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    }

    boolean anyNamed() {
        return !named.isEmpty();
    }

    InetSocketAddress inUse(String nodeId) {
        return inUse.get(nodeId);
    }

    /** The client now connects to {@code address}. */
    void nowUsing(String nodeId, InetSocketAddress address) {
        inUse.put(nodeId, address);
    }

    /**
     * Resolves the nodes that are due again.
     *
     * @param connected whether the client of a node id is connected now
     * @return the nodes whose name no longer points at the address in use, with their new address
     */
    Map<String, InetSocketAddress> moved(Predicate<String> connected) {
        Map<String, InetSocketAddress> moved = new LinkedHashMap<>();
        long now = ticker.nanoTime() / 1_000_000;
        for (MemcachedNode node : named.values()) {
            String id = node.id();
            Long last = checkedAt.get(id);
            long every = connected.test(id) ? upRecheckMillis : downRecheckMillis;
            if (last != null && now - last < every) {
                continue;
            }
            checkedAt.put(id, now);
            List<InetSocketAddress> all;
            try {
                all = resolver.resolve(node);
            } catch (UnknownHostException | RuntimeException e) {
                all = Collections.emptyList();
            }
            InetSocketAddress current = inUse.get(id);
            if (all.isEmpty()) {
                if (unresolvedLines.allow(id)) {
                    LOG.warn("memcached node {} does not resolve now; msm keeps using {} and asks again (this line"
                            + " repeats at most once a minute)", node, current);
                }
            } else if (!all.contains(current)) {
                moved.put(id, all.get(0));
            }
        }
        return moved;
    }
}

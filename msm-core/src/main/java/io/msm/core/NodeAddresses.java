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
 * Where each node's host name points. The client is given the address as an IP literal: left with
 * the name, it resolves it again at each reconnect, and a name that does not resolve at that moment
 * (a container's name while it restarts) makes it drop the node for good. msm resolves instead:
 * every few seconds while a node's connection is lost, and when the address in use is no longer
 * among the answers, the node has moved and gets a new client. While the connection works, a name
 * pointing elsewhere is only logged: the Tomcats would switch one by one, and meanwhile use two
 * servers for one node.
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
    private final OncePerMinute lines = new OncePerMinute(java.time.Clock.systemUTC());

    /**
     * Resolves every node once. A node whose host does not resolve at start (its container down, a
     * DNS hiccup) is left out of use until it does; only when no node resolves does the start stop,
     * since then msm could store nothing anywhere (a typo, or no DNS at all).
     */
    NodeAddresses(List<MemcachedNode> nodes, Resolver resolver, Ticker ticker, long downRecheckMillis,
            long upRecheckMillis) throws IOException {
        this.resolver = resolver;
        this.ticker = ticker;
        this.downRecheckMillis = downRecheckMillis;
        this.upRecheckMillis = upRecheckMillis;
        List<String> unresolved = new ArrayList<>();
        for (MemcachedNode node : nodes) {
            List<InetSocketAddress> all;
            try {
                all = resolver.resolve(node);
            } catch (UnknownHostException e) {
                all = Collections.emptyList();
            }
            if (all.isEmpty()) {
                unresolved.add("'" + node.host() + "' of node " + node.id());
            } else {
                inUse.put(node.id(), literal(all.get(0)));
            }
            if (!isAddressLiteral(node.host())) {
                named.put(node.id(), node);
            }
        }
        if (inUse.isEmpty()) {
            throw new IOException("the host " + String.join(", the host ", unresolved) + " does not resolve on this"
                    + " machine, and no node of memcachedNodes does (a typo, or no DNS at start); write host names it"
                    + " resolves, or IP addresses");
        }
        if (!unresolved.isEmpty()) {
            LOG.warn("the host {} does not resolve at start (a typo, a container not up yet, DNS away): msm starts"
                    + " without it, keeps the node out of use, and connects to it once its name resolves, asked every"
                    + " {} s", String.join(", the host ", unresolved), downRecheckMillis / 1000);
        }
    }

    /** The same address, named by its IP: a client given it never resolves a name. */
    static InetSocketAddress literal(InetSocketAddress address) throws UnknownHostException {
        InetAddress ip = address.getAddress();
        return new InetSocketAddress(InetAddress.getByAddress(ip.getHostAddress(), ip.getAddress()), address.getPort());
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
     * @return the disconnected nodes whose name no longer points at the address in use (or resolves for the
     *     first time), with their new address (an IP literal)
     */
    Map<String, InetSocketAddress> moved(Predicate<String> connected) {
        Map<String, InetSocketAddress> moved = new LinkedHashMap<>();
        long now = ticker.nanoTime() / 1_000_000;
        for (MemcachedNode node : named.values()) {
            if (Thread.currentThread().isInterrupted()) {
                break; // the store closes
            }
            String id = node.id();
            Long last = checkedAt.get(id);
            boolean up = connected.test(id);
            if (last != null && now - last < (up ? upRecheckMillis : downRecheckMillis)) {
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
                if (lines.allow("unresolved " + id)) {
                    LOG.warn("memcached node {} does not resolve {}; msm asks again (this line repeats at most once a"
                            + " minute)", node, current == null ? "yet: it stays out of use"
                            : "now: msm keeps using " + current);
                }
            } else if (current == null || !all.contains(current)) {
                if (!up) {
                    try {
                        moved.put(id, literal(all.get(0)));
                    } catch (UnknownHostException e) {
                        // an address just resolved is an address: not reached
                    }
                } else if (lines.allow("elsewhere " + id)) {
                    LOG.warn("memcached node {} now resolves to {}, but its connection to {} works: msm stays there"
                            + " while it does, so that every Tomcat keeps using one server for the node, and follows"
                            + " the name once that connection is lost (stop the old server to move); this line"
                            + " repeats at most once a minute", node, all.get(0), current);
                }
            }
        }
        return moved;
    }
}

package io.msm.core;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;

/**
 * Sticky mode needs each Tomcat's jvmRoute to be its own. Two Tomcats with one route (a cloned VM,
 * a copied server.xml) both take that route's sessions for theirs: each keeps its own copy in
 * memory, sessions made on one move to the other at their next request, and a failover serves the
 * copy a Tomcat kept from before, without an error anywhere. So each engine keeps a claim on its
 * route in memcached, refreshed every {@link #REFRESH_MILLIS}; an engine that finds another's claim
 * refreshed since it last looked has a live twin, and says so in a SEVERE line once a minute (the
 * Tomcat started later: the first keeps its claim). A claim left by a Tomcat that crashed is never
 * refreshed: it expires, and the new one takes over; one that stops deletes its own.
 */
final class RouteClaims implements Runnable {
    private static final Logger LOG = Logs.get(RouteClaims.class);
    static final long REFRESH_MILLIS = 10_000;
    /** Three refreshes: a claim outlives a slow round, not a Tomcat that stopped. */
    static final int EXPIRY_SECONDS = 30;

    private final String route;
    private final String key;
    private final String instance = UUID.randomUUID().toString();
    private final List<MemcachedNode> nodes;
    private final SessionStore store;
    private final NodeHealth health;
    private final String webapp;
    private final OncePerMinute lines;
    private final Statistics statistics;
    private long refreshes;
    /** Per node: another engine's claim as last seen there. */
    private final Map<String, String> seen = new ConcurrentHashMap<>();

    /** @param route the Engine's jvmRoute; empty when it has none, which two Tomcats must not share either */
    RouteClaims(String route, SessionNames names, List<MemcachedNode> nodes, SessionStore store, NodeHealth health,
            String webapp, OncePerMinute lines, Statistics statistics) {
        this.statistics = statistics;
        this.route = route;
        // The webapp's name too: a storageKeyPrefix that does not tell webapps apart must not make two
        // webapps of one Tomcat look like twins.
        this.key = names.ofWebapp("msm:route:" + route + ":" + StorageKeyPrefix.hash(webapp));
        this.nodes = nodes;
        this.store = store;
        this.health = health;
        this.webapp = webapp;
        this.lines = lines;
    }

    @Override
    public void run() {
        refreshes++;
        UpNodes.each(nodes, health, this::check, "no other Tomcat uses this jvmRoute", webapp, lines, LOG);
    }

    private void check(MemcachedNode node) throws StoreException {
        byte[] found = store.get(node.id(), key);
        String claim = found == null ? null : new String(found, StandardCharsets.UTF_8);
        if (claim == null) {
            seen.remove(node.id());
            store.add(node.id(), key, mine(), EXPIRY_SECONDS); // lost to another's add: seen next round
            return;
        }
        if (claim.startsWith(instance + "/")) {
            store.set(node.id(), key, mine(), EXPIRY_SECONDS);
            return;
        }
        String before = seen.put(node.id(), claim);
        if (before == null || before.equals(claim) || !owner(before).equals(owner(claim))) {
            return; // first seen, or not renewed since: a Tomcat that stopped, whose claim expires
        }
        statistics.increment(Statistics.Counter.ROUTE_TWINS);
        if (lines.allow("twin")) {
            LOG.error("msm for {}: another Tomcat runs this webapp {} too (it renewed its claim on memcached node {}"
                    + " since this Tomcat last looked, {} s before). Sticky sessions carry the route, so both Tomcats"
                    + " take these users for theirs, and each serves its own copy: changes get lost on a failover."
                    + " Give every Tomcat its own <Engine jvmRoute=\"...\"> in server.xml, matching its route= in the"
                    + " balancer. This line repeats at most once a minute while it lasts", webapp,
                    route.isEmpty() ? "without a jvmRoute" : "with jvmRoute \"" + route + "\"", node.id(),
                    REFRESH_MILLIS / 1000);
        }
    }

    /** At stop: a claim of this Tomcat is deleted, so that its next start does not wait for it to expire. */
    void release() {
        UpNodes.deleteIf(nodes, health, store, key,
                found -> new String(found, StandardCharsets.UTF_8).startsWith(instance + "/"));
    }

    private byte[] mine() {
        return (instance + "/" + refreshes).getBytes(StandardCharsets.UTF_8);
    }

    private static String owner(String claim) {
        int slash = claim.lastIndexOf('/');
        return slash < 0 ? claim : claim.substring(0, slash);
    }
}

package io.msm.core;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.slf4j.Logger;

/**
 * Sticky and non-sticky Tomcats of one webapp behind a balancer that is not sticky lose changes: a
 * sticky Tomcat serves a session from its memory, overwrites what a non-sticky one stored, and does
 * not see a logout made there, without an error anywhere. So each engine leaves its mode on every
 * node it uses, every {@link #REFRESH_MILLIS}; one that finds the other mode there says so in an
 * ERROR line once a minute, and counts it. While a webapp switches modes Tomcat by Tomcat behind a
 * sticky balancer (as the README says), this is expected until every Tomcat restarted.
 */
final class ModeCheck implements Runnable {
    private static final Logger LOG = Logs.get(ModeCheck.class);
    static final long REFRESH_MILLIS = 10_000;
    /** Three refreshes: a mark outlives a slow round, not a Tomcat that stopped or switched. */
    static final int EXPIRY_SECONDS = 30;
    private static final byte[] STICKY = "sticky".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NON_STICKY = "non-sticky".getBytes(StandardCharsets.US_ASCII);

    private final String key;
    private final byte[] mine;
    /** The other mode's mark: anything else found under the key is no mode msm writes, and ignored. */
    private final byte[] other;
    private final boolean sticky;
    private final List<MemcachedNode> nodes;
    private final SessionStore store;
    private final NodeHealth health;
    private final String webapp;
    private final OncePerMinute lines;
    private final Statistics statistics;

    ModeCheck(boolean sticky, SessionNames names, List<MemcachedNode> nodes, SessionStore store, NodeHealth health,
            String webapp, OncePerMinute lines, Statistics statistics) {
        // The webapp's name too, as NodeListCheck: two webapps whose prefixes come out the same are not one.
        this.key = names.ofWebapp("msm:mode:" + StorageKeyPrefix.hash(webapp));
        this.sticky = sticky;
        this.mine = sticky ? STICKY : NON_STICKY;
        this.other = sticky ? NON_STICKY : STICKY;
        this.nodes = nodes;
        this.store = store;
        this.health = health;
        this.webapp = webapp;
        this.lines = lines;
        this.statistics = statistics;
    }

    @Override
    public void run() {
        UpNodes.each(nodes, health, this::check, "every Tomcat runs the same mode", webapp, lines, LOG);
    }

    private void check(MemcachedNode node) throws StoreException {
        if (Arrays.equals(store.get(node.id(), key), other)) {
            differs(node);
        }
        store.set(node.id(), key, mine, EXPIRY_SECONDS);
    }

    /**
     * At stop: this mode's mark goes, so that this Tomcat started again in the other mode (an operator
     * switching it) does not take its own mark for another Tomcat's. One still running in this mode
     * writes it again within {@link #REFRESH_MILLIS}.
     */
    void release() {
        UpNodes.deleteIf(nodes, health, store, key, found -> Arrays.equals(found, mine));
    }

    private void differs(MemcachedNode node) {
        statistics.increment(Statistics.Counter.MODES_DIFFERENT);
        if (lines.allow("differs")) {
            LOG.error("msm for {}: another Tomcat of this webapp runs {} (found on node {}), this one {}: behind a"
                    + " balancer that is not sticky, a sticky Tomcat serves sessions from its memory, overwrites what"
                    + " the others stored and misses their logouts; write the same sticky=\"...\" on every Tomcat (while"
                    + " the webapp switches modes Tomcat by Tomcat behind a sticky balancer, this is expected until every"
                    + " Tomcat restarted); this line repeats at most once a minute", webapp,
                    sticky ? "non-sticky" : "sticky", node.id(), sticky ? "sticky" : "non-sticky");
        }
    }
}

package io.msm.tomcat;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.juli.logging.Log;

import io.msm.core.LeftRepairs;
import io.msm.core.SessionEngine;

/**
 * The deletes and markers a stopped webapp's memcached nodes missed (they hung or were cut off),
 * kept in this JVM for the webapp's next start, which does them before it uses those nodes: a logout
 * whose delete a hung node missed must not be undone by a reload. Kept as {@link KeptSessions} keeps
 * sessions, per Tomcat host and webapp.
 */
final class KeptRepairs {
    private static final Log LOG = TomcatLogs.get(KeptRepairs.class);
    private static final long KEEP_MILLIS = 24 * 60 * 60 * 1000L;
    private static final Map<Object, Map<String, LeftRepairs>> KEPT = Collections.synchronizedMap(new WeakHashMap<>());

    private KeptRepairs() {
    }

    /**
     * At stop, after the engine closed.
     *
     * @param webapp the webapp's storage key prefix and name, which its next start looks up
     */
    static void keep(Object host, String webapp, String contextName, SessionEngine engine) {
        LeftRepairs left = engine.leftRepairs();
        if (left.droppedDeletes()) {
            LOG.warn("msm for " + contextName + ": deletes that a memcached node missed during a long outage were"
                    + " dropped unknown before this stop; sessions logged out then may be read back from that node"
                    + " until they expire there");
        }
        if (left.notHandedOn() > 0) {
            LOG.warn("msm for " + contextName + ": " + left.notHandedOn() + " removal marker(s) for a backup node that"
                    + " did not answer are not kept over this stop (they need a flag this engine raises first); the"
                    + " deletes of those sessions are kept");
        }
        Map<String, LeftRepairs> ofHost;
        synchronized (KEPT) {
            ofHost = KEPT.computeIfAbsent(host, h -> new ConcurrentHashMap<>());
        }
        // What no start took over within a day (a webapp undeployed for good, a prefix changed) goes:
        // the keys of sessions with the usual timeouts have expired in memcached by then.
        ofHost.entrySet().removeIf(e -> {
            boolean old = left.stoppedAtMillis() - e.getValue().stoppedAtMillis() > KEEP_MILLIS;
            if (old) {
                LOG.warn("msm for " + contextName + ": " + e.getValue().size() + " delete(s) and marker(s) a webapp"
                        + " of this host left a day ago, which no start took over, are dropped");
            }
            return old;
        });
        if (left.size() == 0) {
            return;
        }
        ofHost.put(webapp, left); // the previous stop's were taken over since
        LOG.warn("msm for " + contextName + ": " + left.size() + " delete(s) and marker(s) not done on memcached"
                + " node(s) " + left.nodes() + " (a node that did not answer, or backups still queued at the stop)"
                + " are kept in this JVM for the next start of this webapp, which does them before it uses those"
                + " nodes. If the webapp does not start again in this JVM, what they delete (sessions logged out"
                + " meanwhile, copies under ids from before a login) stays on those nodes until it expires.");
    }

    /** At start, before the first request. */
    static void takeOver(Object host, String webapp, String contextName, SessionEngine engine) {
        Map<String, LeftRepairs> ofHost = KEPT.get(host);
        LeftRepairs left = ofHost == null ? null : ofHost.remove(webapp);
        if (left == null) {
            return;
        }
        if (System.currentTimeMillis() - left.stoppedAtMillis() > KEEP_MILLIS) {
            LOG.warn("msm for " + contextName + ": " + left.size() + " delete(s) and marker(s) the webapp left more than"
                    + " a day ago are dropped: what they delete has expired in memcached, unless its sessions never"
                    + " expire");
            return;
        }
        int taken = engine.takeOver(left);
        LOG.info("msm for " + contextName + ": took over " + taken + " delete(s) and marker(s) the webapp's previous"
                + " start could not do on memcached node(s) " + left.nodes() + "; those nodes are used once they are"
                + " done" + (taken < left.size() ? " (" + (left.size() - taken) + " for nodes no longer in"
                + " memcachedNodes dropped)" : ""));
    }
}

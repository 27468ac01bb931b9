package io.msm.tomcat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.apache.juli.logging.Log;

import io.msm.core.SessionId;
import io.msm.core.SessionSnapshot;
import io.msm.core.StickySessions;
import io.msm.core.Transcoder;

/**
 * Sticky sessions that only this Tomcat's memory held when their webapp stopped (memcached was down
 * or refused them), kept in this JVM until the webapp starts again: a reload or a redeploy while no
 * node answers must not log anyone out. msm's classes live in tomcat/lib and outlive the webapp; the
 * sessions are kept as stored frames, never as objects of the stopped webapp's classes, which would
 * keep its class loader alive. A session past its timeout is not kept; what nobody takes back is
 * gone with the JVM, and the stop's WARN says so.
 */
final class KeptSessions {
    private static final Log LOG = TomcatLogs.get(KeptSessions.class);
    /**
     * Per Tomcat host, per webapp (its storage key prefix and name): the sessions it left. A reload or redeploy
     * keeps the host; another Tomcat in the same JVM (embedded ones) has its own, and what a host
     * that is gone left goes with it.
     */
    private static final Map<Object, Map<String, List<Kept>>> KEPT = Collections.synchronizedMap(new WeakHashMap<>());

    private static final class Kept {
        final String id;
        final byte[] frame;
        final long expiresAtMillis;

        Kept(String id, byte[] frame, long expiresAtMillis) {
            this.id = id;
            this.frame = frame;
            this.expiresAtMillis = expiresAtMillis;
        }
    }

    private KeptSessions() {
    }

    /**
     * At stop, after the queued backups ran: keeps every valid session memcached does not hold.
     *
     * @param host the Tomcat host of the webapp: a later start under the same host takes the sessions back
     * @param webapp the webapp's storage key prefix and name, which its next start looks up
     */
    static void keepUnstored(Object host, String webapp, String contextName, StickySessions engine,
            java.util.Set<String> nodesDown, Collection<MemcachedSession> sessions, boolean shuttingDown) {
        long now = System.currentTimeMillis();
        List<Kept> kept = new ArrayList<>();
        for (MemcachedSession s : sessions) {
            SessionId id = s.sessionId();
            if (id == null || !s.isValid() || !engine.onlyInMemory(id, s.state(), nodesDown)) {
                continue;
            }
            int maxInactive = s.getMaxInactiveInterval();
            long expiresAt = maxInactive <= 0 ? Long.MAX_VALUE : s.getLastAccessedTimeInternal() + maxInactive * 1000L;
            if (expiresAt > now) {
                kept.add(new Kept(s.getIdInternal(), engine.frameToKeep(s.snapshot()), expiresAt));
            }
        }
        Map<String, List<Kept>> ofHost;
        synchronized (KEPT) {
            ofHost = KEPT.computeIfAbsent(host, h -> new ConcurrentHashMap<>());
        }
        // Lists are never changed once in the map, so a start may read one while a stop prunes.
        ofHost.replaceAll((key, list) -> unexpired(list, now));
        if (kept.isEmpty()) {
            return;
        }
        ofHost.merge(webapp, kept, (before, more) -> {
            List<Kept> all = new ArrayList<>(before);
            all.addAll(more);
            return all;
        });
        if (shuttingDown) {
            // Kept all the same: an embedded Tomcat may be started again in this JVM.
            LOG.warn("msm for " + contextName + ": " + kept.size() + " session(s) in this Tomcat's memory only (no"
                    + " memcached node took them) are lost with this JVM: Tomcat is stopping. Their users log in"
                    + " again (unless this Tomcat is started again in the same JVM, as an embedded one may be).");
            return;
        }
        LOG.warn("msm for " + contextName + ": " + kept.size() + " session(s) are in this Tomcat's memory only (no"
                + " memcached node took them); kept in this JVM for the next start of this webapp, which takes them"
                + " back and backs them up once a node answers. They are lost if this Tomcat stops before that.");
    }

    private static List<Kept> unexpired(List<Kept> list, long now) {
        List<Kept> left = new ArrayList<>(list.size());
        for (Kept k : list) {
            if (k.expiresAtMillis > now) {
                left.add(k);
            }
        }
        return left;
    }

    /**
     * At a start that cannot take back what an earlier stop of this webapp kept (the webapp is now
     * non-sticky or msm is off, or its key prefix changed): says so, with the count, and drops them,
     * rather than losing them without a word.
     *
     * @param webapp the webapp's storage key prefix and name taken back now; null when nothing is
     *     taken back at all
     */
    static void notTakenBack(Object host, String webapp, String contextName, String why) {
        Map<String, List<Kept>> ofHost = KEPT.get(host);
        if (ofHost == null) {
            return;
        }
        String suffix = " " + contextName;
        long now = System.currentTimeMillis();
        for (String key : new ArrayList<>(ofHost.keySet())) {
            if (!key.endsWith(suffix) || key.equals(webapp)) {
                continue;
            }
            List<Kept> left = ofHost.remove(key);
            int count = left == null ? 0 : unexpired(left, now).size();
            if (count > 0) {
                LOG.warn("msm for " + contextName + ": " + count + " session(s) that the webapp's previous start kept"
                        + " in memory while no memcached node answered are not taken back: " + why + ". Their users"
                        + " log in again.");
            }
        }
    }

    /** At start: takes back what a stopped instance of this webapp kept; counted as SESSIONS_KEPT_OVER_RESTART. */
    static void restore(Object host, String webapp, String contextName, StickySessions engine, LocalSessions manager,
            Supplier<List<Transcoder>> shipped) {
        notTakenBack(host, webapp, contextName, "its storageKeyPrefix differs now, so they are not its sessions");
        Map<String, List<Kept>> ofHost = KEPT.get(host);
        if (ofHost == null || ofHost.get(webapp) == null) {
            return;
        }
        // Created only when there is something to read, and before the sessions leave the map: a start
        // that fails here leaves them for the next one.
        List<Transcoder> transcoders = shipped.get();
        List<Kept> kept = ofHost.remove(webapp);
        if (kept == null) {
            return;
        }
        long now = System.currentTimeMillis();
        int restored = 0;
        for (Kept k : kept) {
            SessionId id = manager.parseId(k.id);
            if (k.expiresAtMillis <= now || id == null) {
                continue;
            }
            SessionSnapshot snapshot = engine.restoreKept(id, k.frame, transcoders);
            if (snapshot != null) {
                manager.emptySession().restore(snapshot);
                restored++;
            }
        }
        LOG.info("msm for " + contextName + ": took back " + restored + " session(s) the webapp's previous start"
                + " kept in memory while no memcached node answered; they are backed up once a node answers");
    }
}

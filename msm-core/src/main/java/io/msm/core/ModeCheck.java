package io.msm.core;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.slf4j.Logger;

/**
 * Tomcats of one webapp that differ in how they keep sessions lose them, without an error anywhere.
 * <ul>
 * <li>Sticky and non-sticky ones behind a balancer that is not sticky: a sticky Tomcat serves a
 * session from its memory, overwrites what a non-sticky one stored, and does not see a logout made
 * there.</li>
 * <li>One left without {@code encryptionKeys} (or with another file's names secret) beside encrypting
 * ones: it writes patient data in clear, and the two never see each other's sessions. One whose file
 * lacks the key the others encrypt with (a rotation's step not taken there) refuses their sessions.</li>
 * </ul>
 * So each engine leaves its mode and its protection on every node it uses, every {@link #REFRESH_MILLIS};
 * one that finds another there says so in an ERROR line once a minute, and counts it. While a webapp
 * switches modes Tomcat by Tomcat behind a sticky balancer, or switches encryption on with
 * {@code readUnencryptedSessions} (as the README says), a difference is expected until every Tomcat
 * restarted; encrypting and clear Tomcats beside one that migrates are not reported.
 */
final class ModeCheck implements Runnable {
    private static final Logger LOG = Logs.get(ModeCheck.class);
    static final long REFRESH_MILLIS = 10_000;
    /** Three refreshes: a mark outlives a slow round, not a Tomcat that stopped or switched. */
    static final int EXPIRY_SECONDS = 30;
    private static final String STICKY = "sticky";
    private static final String NON_STICKY = "non-sticky";
    private static final String CLEAR = "clear";
    private static final String SEALED = "sealed";
    private static final String MIGRATING = "migrating";

    private final String key;
    /** "mode protection", such as "sticky sealed:<names fingerprint>:<current key fingerprint>" */
    private final byte[] mine;
    private final boolean sticky;
    private final Protection protection;
    /** Fingerprints of the keys this Tomcat's file holds; empty without encryption. */
    private final java.util.Set<String> keys;
    private final List<MemcachedNode> nodes;
    private final SessionStore store;
    private final NodeHealth health;
    private final String webapp;
    private final OncePerMinute lines;
    private final Statistics statistics;

    /**
     * @param keys null without encryption
     * @param migrating {@code readUnencryptedSessions}: clear Tomcats are expected beside this one
     */
    ModeCheck(boolean sticky, EncryptionKeys keys, boolean migrating, SessionNames names, List<MemcachedNode> nodes,
            SessionStore store, NodeHealth health, String webapp, OncePerMinute lines, Statistics statistics) {
        // The webapp's name too, as NodeListCheck: two webapps whose prefixes come out the same are not one.
        this.key = names.ofWebapp("msm:mode:" + StorageKeyPrefix.hash(webapp));
        this.sticky = sticky;
        this.protection = keys == null ? Protection.NONE : new Protection(migrating ? MIGRATING : SEALED,
                keys.namesFingerprint(), keys.currentKeyFingerprint());
        this.keys = keys == null ? java.util.Collections.emptySet() : keys.keyFingerprints();
        this.mine = ((sticky ? STICKY : NON_STICKY) + " " + protection).getBytes(StandardCharsets.US_ASCII);
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
        byte[] found = store.get(node.id(), key);
        if (found != null && !Arrays.equals(found, mine)) {
            // "mode protection"; a Tomcat of the build before wrote the mode alone. Anything else is no mark
            // msm writes, and ignored.
            String[] mark = new String(found, StandardCharsets.US_ASCII).split(" ", -1);
            if (mark.length <= 2 && (STICKY.equals(mark[0]) || NON_STICKY.equals(mark[0]))) {
                if (STICKY.equals(mark[0]) != sticky) {
                    modeDiffers(node);
                }
                String problem = mark.length == 2 ? protectionProblem(Protection.parse(mark[1])) : null;
                if (problem != null) {
                    protectionDiffers(node, problem, Protection.parse(mark[1]));
                }
            }
        }
        store.set(node.id(), key, mine, EXPIRY_SECONDS);
    }

    /**
     * @return what is wrong when another Tomcat protects its sessions as {@code theirs} says; null when
     *     nothing is, or it is no mark msm writes
     */
    private String protectionProblem(Protection theirs) {
        if (theirs == null) {
            return null;
        }
        boolean mineClear = protection.isClear();
        if (mineClear || theirs.isClear()) {
            if (mineClear == theirs.isClear() || protection.isMigrating() || theirs.isMigrating()) {
                return null; // one that switches encryption on reads what clear Tomcats write
            }
            return theirs.isClear()
                    ? "another Tomcat of this webapp stores sessions in clear (no encryptionKeys), this one encrypts them:"
                            + " it writes what its users do in clear to memcached, and the two never read each other's"
                            + " sessions; give it the same encryptionKeys"
                    : "another Tomcat of this webapp encrypts sessions (encryptionKeys), this one stores them in clear:"
                            + " this one writes what its users do in clear to memcached, and the two never read each"
                            + " other's sessions; give this one the same encryptionKeys";
        }
        if (!theirs.names.equals(protection.names)) {
            return "another Tomcat of this webapp names sessions with another key file's secret (its first key, or its"
                    + " names: line, differs): the two never read each other's sessions; give every Tomcat the same"
                    + " encryptionKeys file";
        }
        if (!keys.contains(theirs.key)) {
            return "another Tomcat of this webapp encrypts with a key this one's encryptionKeys file lacks (a step of a"
                    + " key rotation not taken here, or a key made again under the same id): this one refuses those"
                    + " sessions as changed in memcached (UNAUTHENTIC_SESSIONS), and their users log in again; give this"
                    + " one the file of the rotation's step the others have";
        }
        return null;
    }

    /** How a Tomcat protects its sessions: "clear", or "sealed" or "migrating" with its files' fingerprints. */
    private static final class Protection {
        static final Protection NONE = new Protection(CLEAR, null, null);

        final String kind;
        /** Of the names secret; null in clear. */
        final String names;
        /** Of the key new sessions are encrypted with; null in clear. */
        final String key;

        Protection(String kind, String names, String key) {
            this.kind = kind;
            this.names = names;
            this.key = key;
        }

        /** @return null for what is no protection msm writes */
        static Protection parse(String text) {
            if (CLEAR.equals(text)) {
                return NONE;
            }
            String[] parts = text.split(":", -1);
            if (parts.length != 3 || !(SEALED.equals(parts[0]) || MIGRATING.equals(parts[0]))
                    || parts[1].isEmpty() || parts[2].isEmpty()) {
                return null;
            }
            return new Protection(parts[0], parts[1], parts[2]);
        }

        boolean isClear() {
            return CLEAR.equals(kind);
        }

        boolean isMigrating() {
            return MIGRATING.equals(kind);
        }

        @Override
        public String toString() {
            return isClear() ? CLEAR : kind + ":" + names + ":" + key;
        }
    }

    /**
     * At stop: this mode's mark goes, so that this Tomcat started again in the other mode (an operator
     * switching it) does not take its own mark for another Tomcat's. One still running in this mode
     * writes it again within {@link #REFRESH_MILLIS}.
     */
    void release() {
        UpNodes.deleteIf(nodes, health, store, key, found -> Arrays.equals(found, mine));
    }

    private void modeDiffers(MemcachedNode node) {
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

    /**
     * Every Tomcat of the webapp reads the one mark the odd one wrote last, and logs this: the
     * fingerprints (of derived hashes, telling nothing of the keys) show which Tomcat differs.
     */
    private void protectionDiffers(MemcachedNode node, String problem, Protection theirs) {
        statistics.increment(Statistics.Counter.ENCRYPTION_DIFFERENT);
        if (lines.allow("encryption differs")) {
            LOG.error("msm for {}: {} (found on node {}; here {}, found {}, as kind:names:key fingerprints, which the"
                    + " start line of each Tomcat shows too); while encryption is switched on with"
                    + " readUnencryptedSessions this is not reported; this line repeats at most once a minute", webapp,
                    problem, node.id(), protection, theirs);
        }
    }
}

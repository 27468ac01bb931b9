package io.msm.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Non-sticky mode's expiry across the cluster: finds sessions this Tomcat served that are now idle
 * past their timeout everywhere (their validity record says so), and claims each with an
 * {@code add}: of all Tomcats, only the one whose claim succeeds gets the session back, to fire
 * {@code sessionDestroyed} exactly once.
 */
final class ClusterExpiry {
    private static final int CLAIM_SECONDS = 600;

    private final SessionStore store;
    private final NodeHealth health;
    private final NonStickyKeys keys;
    private final SessionCodec codec;
    private final Expiry expiry;
    private final Statistics statistics;
    private final ExpiryWatch expiryWatch;
    private final ClusterWriter cluster;

    ClusterExpiry(SessionStore store, NodeHealth health, NonStickyKeys keys, SessionCodec codec, Expiry expiry,
            Statistics statistics, ExpiryWatch expiryWatch, ClusterWriter cluster) {
        this.store = store;
        this.health = health;
        this.keys = keys;
        this.codec = codec;
        this.expiry = expiry;
        this.statistics = statistics;
        this.expiryWatch = expiryWatch;
        this.cluster = cluster;
    }

    /** @return the sessions this Tomcat claimed, to expire */
    List<SessionSnapshot> claimExpired() {
        long now = expiry.now();
        List<SessionSnapshot> claimed = new ArrayList<>();
        for (SessionId id : expiryWatch.due(now)) {
            String primary = id.nodeId();
            if (!health.isKnown(primary)) {
                expiryWatch.forget(id);
                continue;
            }
            String backup = keys.backupNode(primary);
            String node = health.isUp(primary) ? primary : backup;
            if (node == null || !health.isUp(node)) {
                continue; // try again on the next check
            }
            boolean onPrimary = node.equals(primary);
            try {
                byte[] validityBytes = store.get(node, onPrimary ? keys.validity(id) : keys.backupValidity(id));
                ValidityRecord v = keys.validityOf(id, validityBytes);
                if (v == null && onPrimary && backup != null && health.isUp(backup)) {
                    // Its node may have restarted empty: the backup's record says whether it lives on,
                    // and its listeners must still hear that it expired.
                    validityBytes = store.get(backup, keys.backupValidity(id));
                    v = keys.validityOf(id, validityBytes);
                    if (v != null) {
                        node = backup;
                        onPrimary = false;
                    }
                }
                String dataKey = onPrimary ? keys.data(id) : keys.backup(id);
                long expiresAt;
                if (v != null) {
                    expiresAt = v.expiresAt();
                } else if (keys.validitySealed()) {
                    // No record that verifies (deleted, or forged in memcached): the sealed copy's own last
                    // access decides, as it does for loads, so that its listeners still hear it expire.
                    Long sealed = sealedCopyExpiresAt(id, node, dataKey);
                    if (sealed == null) {
                        expiryWatch.forget(id); // removed, or not ours to read: nothing to expire
                        continue;
                    }
                    expiresAt = sealed;
                } else {
                    expiryWatch.forget(id); // removed, or never stored: nothing to expire
                    continue;
                }
                if (now <= expiresAt) {
                    expiryWatch.note(id, expiresAt); // used elsewhere meanwhile
                    continue;
                }
                // Asked whoever saw the node away: a Tomcat cut off from it alone kept the session alive on
                // the backup node (its record there is newer), and ending it here would log its user out.
                // Only sessions already past their timeout by the node's record pay for this read.
                if (onPrimary && backup != null && health.isUp(backup)) {
                    ValidityRecord onBackup = keys.validityOf(id, store.get(backup, keys.backupValidity(id)));
                    if (onBackup != null && !onBackup.isExpired(now)) {
                        expiryWatch.note(id, onBackup.expiresAt()); // used while its node did not answer
                        continue;
                    }
                }
                expiryWatch.forget(id);
                // Written by a transcoder this Tomcat does not read (a cluster that switches): not claimed, so
                // that a Tomcat that reads it expires it with its listeners; deleting it would skip them. The
                // sealed copy's check above looked at the copy already.
                if (v != null && isForeign(id, node, store.get(node, dataKey))) {
                    continue;
                }
                if (!store.add(node, keys.claim(id), new byte[] {1}, CLAIM_SECONDS)) {
                    continue; // another Tomcat expires it
                }
                try {
                    byte[] data = store.get(node, dataKey);
                    if (isForeign(id, node, data)) {
                        store.delete(node, keys.claim(id)); // rewritten by such a Tomcat meanwhile: as above
                        continue;
                    }
                    SessionSnapshot s = data == null ? null : codec.decode(id, node, data, new SessionState());
                    long ownExpiry = 0;
                    if (s != null && v == null) {
                        ownExpiry = ValidityRecord.expiresAt(s.lastAccessedTime(), s.maxInactiveInterval());
                    } else if (s != null && v.maxInactiveInterval != s.maxInactiveInterval()) {
                        // A stale record of another timeout: the copy's holds (ValidityRecord.withTimeoutOf).
                        ownExpiry = v.withTimeoutOf(s.lastAccessedTime(), s.maxInactiveInterval()).expiresAt();
                    }
                    if (now <= ownExpiry) {
                        // Decided by the copy, which a request rewrote since: not expired; the claim is given back.
                        expiryWatch.note(id, ownExpiry);
                        store.delete(node, keys.claim(id));
                        continue;
                    }
                    if (s != null) {
                        statistics.increment(Statistics.Counter.SESSIONS_EXPIRED_IN_CLUSTER);
                        if (v != null && v.lastAccessedTime > s.lastAccessedTime()) {
                            // sessionDestroyed's listeners see the last access, which the record holds; the
                            // copy's is its last change's, maybe hours before for a session only read since.
                            s = new SessionSnapshot(id, s.creationTime(), v.lastAccessedTime, s.maxInactiveInterval(),
                                    s.authType(), s.content());
                        }
                        claimed.add(s);
                    } else if (data != null) {
                        // Does not decode here (another release's format, a key this Tomcat lacks, a class its
                        // serialFilter refuses): a Tomcat that reads it expires it with its listeners, else
                        // memcached does, its grace later. Deleted here, they would never hear of it.
                        store.delete(node, keys.claim(id));
                    } else {
                        cluster.deleteAll(id);
                    }
                } catch (StoreException e) {
                    // This Tomcat's claim stays for its ten minutes, and nobody else may take it meanwhile.
                    expiryWatch.note(id, now + CLAIM_SECONDS * 1000L);
                    throw e;
                }
            } catch (StoreException e) {
                health.failed(node, e);
            }
        }
        return claimed;
    }

    /**
     * @return when the copy under the key expires by its own last access; null when there is none, it
     *     does not open, a transcoder this Tomcat does not read wrote it, or the session was removed (a
     *     copy a late write left behind a logout)
     */
    private Long sealedCopyExpiresAt(SessionId id, String node, String dataKey) throws StoreException {
        Map<String, byte[]> found = store.getAll(node, Arrays.asList(dataKey, keys.removed(id)));
        if (found.get(keys.removed(id)) != null) {
            return null;
        }
        byte[] data = found.get(dataKey);
        return data == null ? null : codec.expiresAtByFrame(id, node, data);
    }

    private boolean isForeign(SessionId id, String node, byte[] data) {
        return data != null && codec.isForeign(id, node, data);
    }

    /** @return how many sessions this Tomcat watches for expiry */
    int watchedSessions() {
        return expiryWatch.size();
    }
}

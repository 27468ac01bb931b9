package io.msm.core;

import org.slf4j.Logger;

/**
 * Non-sticky mode: the backup copy of a changed session, written by the request itself before its
 * answer goes out. The session's node may restart empty the moment after; the next request, on any
 * Tomcat, then reads the backup node, and must find this change there, not an older copy. The set
 * is sent before the session's own node is written and awaited after it, so it costs no round trip
 * of its own; a backup node slower than {@code sessionBackupTimeout} holds no request longer, and a
 * backup thread waits for the rest.
 */
final class BackupCopies {
    private static final Logger LOG = Logs.get(BackupCopies.class);

    private final SessionStore store;
    private final NodeHealth health;
    private final NonStickyKeys keys;
    private final ClusterWriter cluster;
    private final BackupService backups;
    private final Statistics statistics;
    private final long timeoutMillis;
    private final OncePerMinute logLimit;

    BackupCopies(SessionStore store, NodeHealth health, NonStickyKeys keys, ClusterWriter cluster,
            BackupService backups, Statistics statistics, long timeoutMillis, OncePerMinute logLimit) {
        this.store = store;
        this.health = health;
        this.keys = keys;
        this.cluster = cluster;
        this.backups = backups;
        this.statistics = statistics;
        this.timeoutMillis = timeoutMillis;
        this.logLimit = logLimit;
    }

    /** @return the set on its way, or null when there is no backup node or it does not answer */
    SessionStore.Sent send(SessionId id, byte[] frame, int expiry) {
        String backup = keys.backupNode(id.nodeId());
        if (backup == null) {
            return null;
        }
        if (!health.isUp(backup)) {
            missed(id, backup, null);
            return null;
        }
        try {
            return store.send(backup, keys.backup(id), frame, expiry);
        } catch (StoreException e) {
            missed(id, backup, e);
            return null;
        }
    }

    /** Waits for the node's answer up to {@code sessionBackupTimeout}; a backup thread waits for the rest. */
    void await(SessionId id, SessionStore.Sent sent) {
        if (sent.awaitAnswer(timeoutMillis)) {
            finish(id, sent);
            return;
        }
        statistics.increment(Statistics.Counter.BACKUP_WAITS_TIMED_OUT);
        LOG.debug("backup copy of session {} still on its way after sessionBackupTimeout={} ms; the request goes on",
                id.masked(), timeoutMillis);
        backups.submit(sent, () -> finish(id, sent));
    }

    private void finish(SessionId id, SessionStore.Sent sent) {
        try {
            store.finish(sent);
        } catch (StoreException e) {
            missed(id, sent.nodeId(), e);
        }
    }

    /**
     * The node's older copy is deleted, now or once the node answers again, so that it is never read
     * in place of the newer one on the session's own node.
     */
    private void missed(SessionId id, String backup, StoreException failure) {
        if (failure == null) {
            health.repairLater(backup, NodeRepairs.delete(keys.backup(id)));
        } else if (failure.isRefused()) {
            cluster.delete(backup, keys.backup(id)); // this item only: the node stays in use
        } else {
            health.failed(backup, failure);
            health.repairLater(backup, NodeRepairs.delete(keys.backup(id)));
        }
        statistics.increment(Statistics.Counter.BACKUPS_FAILED);
        if (logLimit.allow("backup copy " + backup)) {
            LOG.warn("the backup copy of session {} was not written to memcached node {}: until the node answers, the"
                    + " changed sessions of this Tomcat live on their own node only. BACKUPS_FAILED counts each"
                    + " missed copy ({} so far); this line repeats at most once a minute", id.masked(), backup,
                    statistics.get(Statistics.Counter.BACKUPS_FAILED));
        }
    }
}

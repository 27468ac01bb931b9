package io.msm.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
        if (frame.length > PartedStore.PART_SIZE) {
            // Sent in parts, each awaited before the index is sent: a backup thread writes them, so
            // that the request waits no longer than for a small one.
            return new Queued(backup, id, frame, expiry);
        }
        try {
            return store.send(backup, keys.backup(id), frame, expiry);
        } catch (StoreException e) {
            missed(id, backup, e);
            return null;
        }
    }

    /** Waits for the node's answer up to {@code sessionBackupTimeout}; a backup thread waits for the rest. */
    void await(SessionId id, SessionStore.Sent sent, int expiry) {
        if (sent.awaitAnswer(timeoutMillis)) {
            finish(id, sent);
            return;
        }
        statistics.increment(Statistics.Counter.BACKUP_WAITS_TIMED_OUT);
        LOG.debug("backup copy of session {} still on its way after sessionBackupTimeout={} ms; the request goes on",
                id.masked(), timeoutMillis);
        BackupService.Job rest = () -> {
            if (finish(id, sent)) {
                copyFromItsNode(id, sent.nodeId(), expiry);
            }
        };
        if (sent instanceof Queued) {
            // Its write may still wait in the queue, under this key: a job put behind it there would take
            // its place (a newer job of a session does) and then wait for it forever, holding a backup
            // thread. So the rest is queued once the write has run.
            ((Queued) sent).done.whenComplete((ignored, failure) -> backups.submit(sent, rest));
        } else {
            backups.submit(sent, rest);
        }
    }

    /** @return true when the copy was written */
    private boolean finish(SessionId id, SessionStore.Sent sent) {
        try {
            if (sent instanceof Queued) {
                ((Queued) sent).finish();
            } else {
                store.finish(sent);
            }
            return true;
        } catch (StoreException e) {
            missed(id, sent.nodeId(), e);
            return false;
        }
    }

    /**
     * A late copy may have landed after a newer one another request wrote meanwhile: the backup
     * node gets what the session's own node holds now, so that the older one is never read there.
     */
    private void copyFromItsNode(SessionId id, String backup, int expiry) {
        String primary = id.nodeId();
        byte[] current;
        try {
            current = health.isUp(primary) ? store.get(primary, keys.data(id)) : null;
        } catch (StoreException e) {
            health.failed(primary, e);
            return;
        }
        if (current == null) {
            return;
        }
        try {
            store.set(backup, keys.backup(id), current, expiry);
            // Ended (a logout, an expiry, a new id) while this ran: the copy just written must not outlive
            // it, since no patient data may stay in memcached after a logout. A node that lost the
            // session meanwhile (restarted empty, evicted) is no reason: this copy is then its only one.
            if (cluster.removedMeanwhile(id)) {
                cluster.delete(backup, keys.backup(id));
            }
        } catch (StoreException e) {
            missed(id, backup, e);
        }
    }

    /** A large copy, written by a backup thread. */
    private final class Queued implements SessionStore.Sent {
        private final String nodeId;
        private final CompletableFuture<Void> done;
        private volatile StoreException failure;

        Queued(String nodeId, SessionId id, byte[] frame, int expiry) {
            this.nodeId = nodeId;
            this.done = backups.submit(this, () -> {
                try {
                    store.set(nodeId, keys.backup(id), frame, expiry);
                } catch (StoreException e) {
                    failure = e;
                }
            });
        }

        @Override
        public String nodeId() {
            return nodeId;
        }

        @Override
        public boolean awaitAnswer(long millis) {
            try {
                done.get(millis, TimeUnit.MILLISECONDS);
                return true;
            } catch (TimeoutException e) {
                return false;
            } catch (ExecutionException e) {
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        void finish() throws StoreException {
            done.join();
            if (failure != null) {
                throw failure;
            }
        }
    }

    /**
     * The node's older copy is deleted, now or once the node answers again, so that it is never read
     * in place of the newer one on the session's own node.
     */
    private void missed(SessionId id, String backup, StoreException failure) {
        if (failure == null) {
            health.repairLater(backup, NodeRepairs.deleteUnlessMarked(keys.backup(id), keys.behind(id)));
        } else if (failure.isRefused()) {
            cluster.delete(backup, keys.backup(id)); // this item only: the node stays in use
        } else {
            health.failed(backup, failure);
            health.repairLater(backup, NodeRepairs.deleteUnlessMarked(keys.backup(id), keys.behind(id)));
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

package io.msm.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Non-sticky removals (a logout's or an expiry's marker and deletes, a stale copy's delete, the
 * copies under the id a session had before a login) from the moment they are queued on the backup
 * threads until they ran. A stop drops what its bounded wait left in the queue; these become
 * repairs instead, which the next start of the webapp in this JVM does before it uses the nodes.
 * Dropped, a logged-out session would stay logged in on other Tomcats.
 */
final class PendingRemovals {
    private final BackupService backups;
    /** Each removal under its own completion: two removals of one id are two entries. */
    private final Map<CompletableFuture<Void>, ClusterWrite> pending = new ConcurrentHashMap<>();

    PendingRemovals(BackupService backups) {
        this.backups = backups;
    }

    /**
     * @param removal a removal, or a write that deletes the copies under ids the session had before (a
     *     login's new id): those are handed on, not the session itself
     * @return completes when the write, or one it joined, has run
     */
    CompletableFuture<Void> submit(ClusterWrite removal) {
        CompletableFuture<Void> done = backups.submit(removal.id, removal);
        pending.put(done, removal);
        done.whenComplete((ignored, failure) -> pending.remove(done)); // at once when it ran already
        return done;
    }

    /** @return removals queued or running */
    int size() {
        return pending.size();
    }

    /**
     * At a stop, after the backup threads stopped: the removals that did not run become repairs.
     *
     * @return how many were handed on
     */
    int queueUndone(ClusterWriter cluster) {
        List<ClusterWrite> undone = new ArrayList<>(pending.values());
        for (ClusterWrite write : undone) {
            if (write.removes()) {
                cluster.removeLater(write.id, write.expiry);
            }
            for (SessionId former : write.formerIds) {
                cluster.removeLater(former, write.expiry);
            }
        }
        return undone.size();
    }
}

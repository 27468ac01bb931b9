package io.msm.core;

import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;

/**
 * Non-sticky mode: what a request leaves to write in the background for one session (its validity
 * record on both nodes, expiries to push forward, keys of a former id to delete). The backup copy
 * is not among them: the request writes it itself ({@link NonStickyWriter}), since a change answered
 * must survive its node dying the moment after. While one waits, a newer one for the same session
 * absorbs it instead of queueing behind it, so a busy session costs one write per round of the
 * backup threads, and nothing the older one carried is lost: its deletions are kept. A waiting
 * removal absorbs whatever comes after it: ids are never reused, so a write after the removal is a
 * late one of a dead session, and dropping the removal would leave that session in memcached
 * without the marker that keeps it dead.
 */
final class ClusterWrite implements BackupService.Job {
    final SessionId id;
    final int expiry;
    /** The validity record for both nodes; null when the recorded one is recent enough. */
    byte[] validity;
    /** The session was invalidated or expired: its keys are deleted, nothing is written. */
    final boolean removal;
    /** Push the stored copies' expiry forward. */
    boolean touchData;
    /**
     * In order of arrival. Joined under the backup slot's lock, and read at a stop without it
     * ({@link PendingRemovals}), where a request still running may join: safe to read at any time.
     */
    final Set<SessionId> formerIds = new CopyOnWriteArraySet<>();
    private final Consumer<ClusterWrite> writer;

    private ClusterWrite(SessionId id, int expiry, byte[] validity, boolean removal, Consumer<ClusterWrite> writer) {
        this.id = id;
        this.expiry = expiry;
        this.validity = validity;
        this.removal = removal;
        this.writer = writer;
    }

    /** @param validity null when the recorded validity is recent enough */
    static ClusterWrite stored(SessionId id, int expiry, byte[] validity, SessionId formerId,
            Consumer<ClusterWrite> writer) {
        ClusterWrite w = new ClusterWrite(id, expiry, validity, false, writer);
        if (formerId != null && !formerId.equals(id)) {
            w.formerIds.add(formerId);
        }
        return w;
    }

    static ClusterWrite accessed(SessionId id, int expiry, byte[] validity, boolean touchData,
            Consumer<ClusterWrite> writer) {
        ClusterWrite w = new ClusterWrite(id, expiry, validity, false, writer);
        w.touchData = touchData;
        return w;
    }

    /** @param expiry how long the removal marker lives: as long as any copy of the session could */
    static ClusterWrite removed(SessionId id, SessionId formerId, int expiry, Consumer<ClusterWrite> writer) {
        ClusterWrite w = new ClusterWrite(id, expiry, null, true, writer);
        if (formerId != null && !formerId.equals(id)) {
            w.formerIds.add(formerId);
        }
        return w;
    }

    @Override
    public boolean removes() {
        return removal;
    }

    @Override
    public BackupService.Job absorb(BackupService.Job waiting) {
        if (!(waiting instanceof ClusterWrite)) {
            return this;
        }
        ClusterWrite older = (ClusterWrite) waiting;
        if (older.removes() && !removes()) {
            older.formerIds.addAll(formerIds);
            return older;
        }
        formerIds.addAll(older.formerIds);
        if (!removes()) {
            if (validity == null) {
                validity = older.validity;
            }
            touchData |= older.touchData;
        }
        return this;
    }

    @Override
    public void run() {
        writer.accept(this);
    }
}

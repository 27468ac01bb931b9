package io.msm.core;

import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * What the engine remembers about one live session between requests: which bytes memcached
 * holds for it and under which id, and when its expiry was last pushed forward. The adapter keeps
 * one beside each session; the engine alone reads and writes it.
 */
public final class SessionState {
    // Field updaters rather than AtomicLong objects: one state lives beside every session in memory.
    private static final AtomicLongFieldUpdater<SessionState> QUEUED =
            AtomicLongFieldUpdater.newUpdater(SessionState.class, "queuedFingerprint");
    private static final AtomicLongFieldUpdater<SessionState> COMPARE_SCHEDULED =
            AtomicLongFieldUpdater.newUpdater(SessionState.class, "compareScheduledFor");

    /** Fingerprint of the content memcached holds; 0 while it holds nothing known. */
    volatile long storedFingerprint;
    /** Sticky mode: fingerprint of the newest content queued or sent for storing; 0 when none is. */
    private volatile long queuedFingerprint;
    /**
     * Sticky mode: held while a backup is prepared (snapshot, encode, queue or send), so that the
     * backups of one session go out in the order of their snapshots.
     */
    final Object backupOrder = new Object();
    /** Sequence number of the last backup prepared; guarded by {@link #backupOrder}. */
    long lastBackupSeq;
    /** Sequence number of the backup whose answer was recorded last; guarded by this. */
    private long recordedSeq;
    /** The id the stored copy lives under; differs from the session's id after a rename. */
    volatile SessionId storedUnderId;
    volatile long lastRefreshMillis;
    /** Sticky mode: when the session's bytes were last compared with what memcached holds. */
    volatile long lastComparedMillis;
    /** Sticky mode: a request changed the session through the API since its last comparison. */
    volatile boolean changePending;
    /** The session was invalidated or expired: nothing of it is stored any more. */
    volatile boolean removed;
    /** Sticky mode: the node's {@link NodeHealth#epoch} when memcached got the content it holds. */
    volatile long nodeEpoch;
    /** The session is too large to store, and the log said so already. */
    volatile boolean oversizeLogged;
    /**
     * Its last store was refused as too large: only a change can make it fit, so sticky mode's
     * background run does not encode it again to learn that.
     */
    volatile boolean tooLarge;
    /** Sticky mode: when the scheduled comparison runs; 0 when none is scheduled. */
    private volatile long compareScheduledFor;

    // Non-sticky mode only: the session lives in memcached between requests.
    /** CAS token of the copy loaded from the session's node; 0 when it came from elsewhere or is new. */
    volatile long cas;
    /** When the stored copy's expiry in memcached was last pushed forward, from the validity record. */
    volatile long dataRefreshedAt;
    /** The last access the validity record in memcached holds; 0 when there is none. */
    volatile long recordedLastAccess;
    /**
     * Non-sticky: a store made while parallel requests here still used the session wrote its node,
     * so memcached's token moved past {@link #cas}: later stores read the copy there and compare.
     */
    volatile boolean sharedOnPrimary;
    /**
     * Non-sticky: loaded from the backup copy, the node read, and its copy not this load's with a
     * known token (another Tomcat restored or wrote it first): the store reads it and compares, as
     * after {@link #sharedOnPrimary}, since a set would overwrite that Tomcat's change.
     */
    volatile boolean nodeCopyUnknown;
    /**
     * Non-sticky: the last such store wrote the backup node alone (the node was down): the node's copy,
     * if any, is older than the content this Tomcat holds.
     */
    volatile boolean sharedOnBackupOnly;
    /**
     * Non-sticky: the count of changes ({@link SessionChanges#recorded}) that such stores wrote to
     * the session's node; a later merge applies only what came after, since the node's copy holds
     * these or another Tomcat's later change of the same, which must win.
     */
    volatile long changesOnNode;
    /** Non-sticky: such a store found the session invalidated elsewhere; none is tried again. */
    volatile boolean sharedEndedElsewhere;
    /**
     * Non-sticky: the frame the last such store wrote to the node as it was; null when it merged.
     * Memcached holding these bytes holds this Tomcat's own write, not another Tomcat's change.
     */
    volatile byte[] sharedFrame;
    /** Non-sticky: the near copy this state's request took or made at its load; null if none. */
    volatile NearCopies.Copy nearCopy;
    /**
     * The bytes of the session's last encode or load, for an encode to reuse what did not change;
     * null where none are kept (sticky mode: a session not in use, see {@link KeptBlocks}). Used by
     * whoever encodes the session: one thread at a time.
     */
    volatile EncodedBlocks blocks;
    /** The cluster lock this Tomcat holds for the session, or null. */
    volatile SessionLocks.Lock lock;

    /** For a session just loaded from memcached: memcached holds exactly this. */
    void loaded(SessionId id, long fingerprint, long now) {
        storedUnderId = id;
        storedFingerprint = fingerprint;
        lastRefreshMillis = now;
    }

    /**
     * Records that memcached holds this content, unless a newer backup's answer was recorded first
     * (an older one that timed out and finished late): sets of one session go out in sequence order,
     * so memcached holds the newer one.
     *
     * @return the id the session was stored under before, whose copy is now stale; {@code id} itself
     *     when that did not change or this answer was not recorded
     */
    synchronized SessionId recordStored(long seq, SessionId id, long fingerprint, long now) {
        if (seq < recordedSeq) {
            return id;
        }
        recordedSeq = seq;
        SessionId before = storedUnderId;
        storedFingerprint = fingerprint;
        storedUnderId = id;
        lastRefreshMillis = now;
        QUEUED.compareAndSet(this, fingerprint, 0);
        return before == null ? id : before;
    }

    /** A backup could not be written: memcached holds nothing known, so the next one writes in full. */
    void backupMissed() {
        storedFingerprint = 0;
        queuedFingerprint = 0;
    }

    /** Sticky mode: fingerprint of the newest content queued or sent for storing; 0 when none is. */
    long queuedFingerprint() {
        return queuedFingerprint;
    }

    void queued(long fingerprint) {
        queuedFingerprint = fingerprint;
    }

    /** Sticky mode: when the scheduled comparison runs; 0 when none is scheduled. */
    long compareScheduledFor() {
        return compareScheduledFor;
    }

    /** @return true when the scheduled time was {@code expected} and is {@code due} now */
    boolean compareScheduledFor(long expected, long due) {
        return COMPARE_SCHEDULED.compareAndSet(this, expected, due);
    }

    /** @return true when a newer backup than {@code seq} has been recorded already */
    synchronized boolean isOutdated(long seq) {
        return seq < recordedSeq;
    }

    /** @return true once memcached holds the session's latest content under its current id */
    public boolean isBackedUp(SessionId currentId) {
        return storedFingerprint != 0 && currentId.equals(storedUnderId);
    }
}

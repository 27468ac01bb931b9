package io.msm.core;

import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;

import org.slf4j.Logger;

/**
 * Sticky mode: a Tomcat that takes a session over from another Tomcat's route leaves a mark under the
 * old id, a random number. The other Tomcat may still run (the balancer passed it over for a moment)
 * and hold the old id in memory, which it would serve to any request that reaches it with the old
 * cookie, even after a logout here. Now and then it asks for the mark, and drops its copy when it
 * finds one it did not find when it got the copy. No times are compared: the Tomcats' clocks may
 * differ. Any move of a session to an id takes that id's mark off.
 */
final class MovedMarks {
    private static final Logger LOG = Logs.get(MovedMarks.class);
    private static final String WHAT = "moved:";
    /**
     * What a move returns when it could not learn or clear the destination's mark (its node down or
     * slow): the copy takes the first mark it finds there as its own rather than drop itself for it.
     */
    static final long UNKNOWN = -1;

    private final SessionStore store;
    private final NodeHealth health;
    private final SessionNames names;
    private final Expiry expiry;

    MovedMarks(SessionStore store, NodeHealth health, SessionNames names, Expiry expiry) {
        this.store = store;
        this.health = health;
        this.names = names;
        this.expiry = expiry;
    }

    /**
     * The session left {@code from} for {@code to}; {@code takenOver} when {@code from} was another
     * Tomcat's route. Best effort: a mark that is not written leaves that Tomcat's copy to its own idle
     * expiry, as without marks.
     *
     * @return the mark found under {@code to} (back under an id it once left), which this copy then
     *     ignores should it outlive a failed delete; 0 for none; {@link #UNKNOWN} when it could not be
     *     read and taken off
     */
    long moved(SessionId from, SessionId to, boolean takenOver, int maxInactive) {
        long found = UNKNOWN;
        try {
            if (health.isUp(to.nodeId())) {
                String key = names.of(WHAT, to); // hashed, with encryption: made once
                found = markOf(store.get(to.nodeId(), key));
                store.delete(to.nodeId(), key); // also when none was read: one may be on its way
            }
        } catch (StoreException e) {
            LOG.debug("the mark under session {}'s new id was not taken off: {}", to.masked(), e.getMessage());
        }
        if (takenOver && health.isUp(from.nodeId())) {
            try {
                long mark = (ThreadLocalRandom.current().nextLong() >>> 1) | 1; // positive: never 0 (none) nor UNKNOWN
                store.set(from.nodeId(), names.of(WHAT, from), ByteBuffer.allocate(Long.BYTES).putLong(mark).array(),
                        expiry.sticky(maxInactive));
            } catch (StoreException e) {
                LOG.debug("the mark of session {}'s takeover was not written: {}", from.masked(), e.getMessage());
            }
        }
        return found;
    }

    /**
     * @return the mark of a takeover from this id, or 0: none, or not known now (its node down or slow:
     *     the copy is served, as without marks, and its node is not taken out of use for a read that
     *     only a few requests make)
     */
    long markOf(SessionId id) {
        String node = id.nodeId();
        if (!health.isUp(node)) {
            return 0;
        }
        try {
            return markOf(store.get(node, names.of(WHAT, id)));
        } catch (StoreException e) {
            return 0;
        }
    }

    private static long markOf(byte[] bytes) {
        return bytes == null || bytes.length != Long.BYTES ? 0 : ByteBuffer.wrap(bytes).getLong();
    }
}

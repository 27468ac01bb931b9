package io.msm.core;

import java.nio.ByteBuffer;

import org.slf4j.Logger;

/**
 * Sticky mode: a Tomcat that takes a session over from another Tomcat's route leaves a mark under the
 * old id, with the time of the takeover. The other Tomcat may still run (the balancer passed it over
 * for a moment) and hold the old id in memory, which it would serve to any request that reaches it
 * with the old cookie, even after a logout here. Now and then it asks for the mark, and ends its copy
 * when the takeover came after the copy arrived there. Any move of a session to an id takes that
 * id's mark off.
 */
final class MovedMarks {
    private static final Logger LOG = Logs.get(MovedMarks.class);
    private static final String WHAT = "moved:";

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
     * expiry, as without marks; one not taken off is older than the copy now under that id, which
     * therefore ignores it.
     */
    void moved(SessionId from, SessionId to, boolean takenOver, int maxInactive) {
        try {
            if (health.isUp(to.nodeId())) {
                store.delete(to.nodeId(), names.of(WHAT, to)); // back under an id it once left: its own again
            }
        } catch (StoreException e) {
            LOG.debug("the mark under session {}'s new id was not taken off: {}", to.masked(), e.getMessage());
        }
        if (!takenOver || !health.isUp(from.nodeId())) {
            return;
        }
        try {
            byte[] at = ByteBuffer.allocate(Long.BYTES).putLong(expiry.now()).array();
            store.set(from.nodeId(), names.of(WHAT, from), at, expiry.sticky(maxInactive));
        } catch (StoreException e) {
            LOG.debug("the mark of session {}'s takeover was not written: {}", from.masked(), e.getMessage());
        }
    }

    /**
     * @return when another Tomcat took the session over from this id (its wall clock), or 0: never,
     *     or not known now (its node down or slow: the copy is served, as without marks, and its node
     *     is not taken out of use for a read that only a few requests make)
     */
    long takenOverAt(SessionId id) {
        String node = id.nodeId();
        if (!health.isUp(node)) {
            return 0;
        }
        try {
            byte[] mark = store.get(node, names.of(WHAT, id));
            return mark == null || mark.length != Long.BYTES ? 0 : ByteBuffer.wrap(mark).getLong();
        } catch (StoreException e) {
            return 0;
        }
    }
}

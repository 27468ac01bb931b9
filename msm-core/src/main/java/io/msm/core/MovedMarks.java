package io.msm.core;

import org.slf4j.Logger;

/**
 * Sticky mode: a Tomcat that takes a session over from another Tomcat's route leaves a one-byte mark
 * under the old id. The other Tomcat may still run (the balancer passed it over for a moment) and
 * hold the old id in memory, which it would serve to any request that reaches it with the old
 * cookie, even after a logout here. Before it serves a copy idle there for a while, it asks for the
 * mark, and ends its copy when it finds one. A session that comes back under an id takes the mark
 * off again.
 */
final class MovedMarks {
    private static final Logger LOG = Logs.get(MovedMarks.class);
    private static final byte[] MARK = {1};
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
     * The session left {@code from}, another Tomcat's route, for {@code to}. Best effort: a mark that
     * is not written leaves that Tomcat's copy to its own idle expiry, as without marks.
     */
    void tookOver(SessionId from, SessionId to, int maxInactive) {
        try {
            if (health.isUp(to.nodeId())) {
                store.delete(to.nodeId(), names.of(WHAT, to)); // back under an id it once left: its own again
            }
            if (health.isUp(from.nodeId())) {
                store.set(from.nodeId(), names.of(WHAT, from), MARK, expiry.sticky(maxInactive));
            }
        } catch (StoreException e) {
            LOG.debug("the mark of session {}'s takeover was not written: {}", from.masked(), e.getMessage());
        }
    }

    /** @return true when another Tomcat took the session over from this id; false when unknown (a node down) */
    boolean isMovedAway(SessionId id) {
        String node = id.nodeId();
        if (!health.isUp(node)) {
            return false;
        }
        try {
            return store.get(node, names.of(WHAT, id)) != null;
        } catch (StoreException e) {
            health.failed(node, e);
            return false;
        }
    }
}

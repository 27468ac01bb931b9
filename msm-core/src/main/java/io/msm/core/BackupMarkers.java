package io.msm.core;

import java.util.Arrays;
import java.util.Map;

/**
 * Non-sticky loads: what the backup node says of a session whose own node answered. A Tomcat that
 * could not reach the node (a cut between two hosts, its own timeouts, an outage only it saw) wrote
 * the session to the backup node only and left a "behind" marker there, or left a removal marker
 * when it ended the session; another Tomcat that still reaches the node must not serve the node's
 * older copy as if nothing happened. Asked before the node's own read and taken after it, so the
 * two round trips overlap; asked only while the node's flag says there may be such a marker
 * ({@link BehindFlags}).
 */
final class BackupMarkers {
    /** What the backup node said. */
    enum Word {
        /** No marker, or no answer in time: the node's copy is the session. */
        NONE,
        /** The session was ended while its node did not answer. */
        REMOVED,
        /** Written to the backup node only, after the node's copy. */
        BEHIND
    }

    private final SessionStore store;
    private final NodeHealth health;
    private final NonStickyKeys keys;
    private final long waitMillis;
    private final BehindFlags flags;

    /**
     * @param waitMillis {@code operationTimeout}: the answer is needed, and under the load that makes
     *     another Tomcat's operations time out, a shorter wait would skip it just when it matters. A
     *     backup node that does not answer in that time is marked down, as after any operation.
     */
    BackupMarkers(SessionStore store, NodeHealth health, NonStickyKeys keys, BehindFlags flags, long waitMillis) {
        this.flags = flags;
        this.store = store;
        this.health = health;
        this.keys = keys;
        this.waitMillis = waitMillis;
    }

    /** @return the question on its way, or null when there is no backup node to ask, or no need */
    SessionStore.Asked ask(SessionId id, String backup) {
        if (backup == null || !health.isUp(backup) || !flags.mayBeBehind(id.nodeId())) {
            return null;
        }
        try {
            return store.ask(backup, Arrays.asList(keys.removed(id), keys.behind(id)));
        } catch (StoreException e) {
            health.failed(backup, e);
            return null;
        }
    }

    Word answer(SessionStore.Asked asked, SessionId id, String backup) {
        if (asked == null) {
            return Word.NONE;
        }
        Map<String, byte[]> found;
        try {
            found = asked.await(waitMillis);
        } catch (StoreException e) {
            health.failed(backup, e);
            return Word.NONE;
        }
        if (found == null) {
            health.markDown(backup, "get on node " + backup + " timed out after " + waitMillis + " ms");
            return Word.NONE;
        }
        if (found.get(keys.removed(id)) != null) {
            return Word.REMOVED;
        }
        return found.get(keys.behind(id)) != null ? Word.BEHIND : Word.NONE;
    }
}

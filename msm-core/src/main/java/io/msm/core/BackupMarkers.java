package io.msm.core;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;

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
    private static final Logger LOG = Logs.get(BackupMarkers.class);
    /** What the backup node said. */
    enum Word {
        /** No marker: the node's copy is the session. */
        NONE,
        /** The session was ended while its node did not answer. */
        REMOVED,
        /** Written to the backup node only, after the node's copy. */
        BEHIND,
        /** The backup node was asked and did not answer in time: asked again before the node's copy is used. */
        UNANSWERED
    }

    /** A question that could not be sent: answered {@link Word#UNANSWERED}. */
    private static final SessionStore.Asked NOT_SENT = maxMillis -> null;
    /**
     * How long a backup node that left both reads of a load unanswered is not asked again while out of
     * use; longer while the health check's probes of it go unanswered too.
     */
    private static final long QUIET_MILLIS = SessionEngine.PROBE_INTERVAL_MILLIS;
    /** A failed probe older than this says nothing: the health check's thread may be held elsewhere. */
    private static final long PROBE_NEWS_MILLIS = 2 * QUIET_MILLIS;

    private final SessionStore store;
    private final NodeHealth health;
    private final NonStickyKeys keys;
    private final long waitMillis;
    private final BehindFlags flags;
    private final OncePerMinute logLimit;
    private final Clock clock;
    /** Per backup node, when a load's second read last went without an answer (wall millis). */
    private final Map<String, Long> unansweredAt = new ConcurrentHashMap<>();

    /**
     * @param waitMillis {@code operationTimeout}: the answer is needed, and under the load that makes
     *     another Tomcat's operations time out, a shorter wait would skip it just when it matters. A
     *     backup node that does not answer in that time is marked down, as after any operation.
     */
    BackupMarkers(SessionStore store, NodeHealth health, NonStickyKeys keys, BehindFlags flags, long waitMillis,
            Clock clock) {
        this.flags = flags;
        this.logLimit = new OncePerMinute(clock);
        this.clock = clock;
        this.store = store;
        this.health = health;
        this.keys = keys;
        this.waitMillis = waitMillis;
    }

    /**
     * Asked of a backup node out of use but connected too: one slow operation marks a node down for a
     * while, and that must not make the node's copy the session just when it may be the older one. Not
     * while a load's two reads of that node went unanswered lately: a hung node would make every load wait.
     *
     * @return the question on its way, or null when there is no backup node to ask, or no need
     */
    SessionStore.Asked ask(SessionId id, String backup) {
        if (backup == null || !flags.mayBeBehind(id.nodeId())) {
            return null;
        }
        // Connected is enough: a removal marker there is a logout, whatever else waits for the node.
        if (!health.isUp(backup) && (!health.isConnected(backup) || quiet(backup))) {
            return null;
        }
        try {
            return store.ask(backup, markerKeys(id, backup));
        } catch (StoreException e) {
            health.failed(backup, e);
            return NOT_SENT;
        }
    }

    /**
     * @return {@link Word#UNANSWERED} when the backup node did not answer and is worth asking once more
     *     ({@link #readAll}); while the node left both reads of a load unanswered lately ({@link
     *     #QUIET_MILLIS}), {@link Word#NONE} and a log line instead
     */
    Word answer(SessionStore.Asked asked, SessionId id, String backup) {
        if (asked == null) {
            return Word.NONE;
        }
        Map<String, byte[]> found;
        try {
            found = asked.await(waitMillis);
        } catch (StoreException e) {
            health.failed(backup, e);
            return Word.UNANSWERED; // failed at once: asking again costs no wait
        }
        if (found != null) {
            return wordOf(found, id);
        }
        if (asked == NOT_SENT) {
            return Word.UNANSWERED;
        }
        health.markDown(backup, "get on node " + backup + " timed out after " + waitMillis + " ms");
        if (quiet(backup)) {
            usingNodesCopy(id, backup, "get timed out after " + waitMillis + " ms");
            return Word.NONE;
        }
        return Word.UNANSWERED;
    }

    /**
     * @return the markers to read; not the behind marker of a backup node out of use while this Tomcat's
     *     delete of it waits there, or may have been dropped: that node was restored, and the marker
     *     outlives it only until the delete runs
     */
    private List<String> markerKeys(SessionId id, String backup) {
        if (health.isUp(backup)
                || !health.isDeleteWaiting(backup, keys.behind(id)) && !health.droppedDeletes(backup)) {
            return Arrays.asList(keys.removed(id), keys.behind(id));
        }
        return Collections.singletonList(keys.removed(id));
    }

    /**
     * @return true while a second read ({@link #readAll}) of the node went unanswered lately, and
     *     longer while the health check's newest probe of it went unanswered too
     */
    private boolean quiet(String backup) {
        Long at = unansweredAt.get(backup);
        // Past the minimum, still quiet while the health check finds it silent too: a node that hangs
        // for a minute made a burst of loads wait every QUIET_MILLIS, sessions of the healthy node
        // included. Not when the check has not tried it lately: it may answer again by now.
        return at != null && (clock.millis() - at < QUIET_MILLIS
                || health.probeFailedLately(backup, PROBE_NEWS_MILLIS));
    }

    private Word wordOf(Map<String, byte[]> found, SessionId id) {
        if (found.get(keys.removed(id)) != null) {
            return Word.REMOVED;
        }
        return found.get(keys.behind(id)) != null ? Word.BEHIND : Word.NONE;
    }

    /**
     * After {@link Word#BEHIND}, for the backup's copy, or {@link Word#UNANSWERED}: the markers asked
     * once more, with the copy, before the node's copy is used. A backup node slow for one
     * operation (a pause, a starved thread) made a load serve the older copy.
     *
     * @return the backup node's markers, copy and validity record, or null when it did not answer
     *     (logged: the node's copy is used, as the best there is)
     */
    Map<String, byte[]> readAll(SessionId id, String backup) {
        try {
            List<String> wanted = new ArrayList<>(markerKeys(id, backup));
            wanted.add(keys.backup(id));
            wanted.add(keys.backupValidity(id));
            Map<String, byte[]> found = store.getAll(backup, wanted);
            unansweredAt.remove(backup); // answered: other loads ask it again, even while it is out of use
            return found;
        } catch (StoreException e) {
            health.failed(backup, e);
            unansweredAt.put(backup, clock.millis());
            usingNodesCopy(id, backup, e.getMessage());
            return null;
        }
    }

    /**
     * The word of both reads: never lower than the first. A marker deleted in between (another Tomcat
     * restored the node) must not make this load take the node's copy it read before that.
     */
    Word settle(Word first, Map<String, byte[]> found, SessionId id) {
        if (found == null) {
            return first == Word.UNANSWERED ? Word.NONE : first;
        }
        Word second = wordOf(found, id);
        return second == Word.REMOVED || first != Word.BEHIND ? second : Word.BEHIND;
    }

    private void usingNodesCopy(SessionId id, String backup, String why) {
        if (logLimit.allow(backup)) {
            LOG.warn("session {}: memcached node {} may hold an older copy of it than its backup node {} (a Tomcat"
                    + " wrote node {}'s sessions to {} alone lately), and node {} did not answer for it: {}; node {}'s"
                    + " copy is used (this line repeats at most once a minute)", id.masked(), id.nodeId(), backup,
                    id.nodeId(), backup, backup, why, id.nodeId());
        }
    }
}

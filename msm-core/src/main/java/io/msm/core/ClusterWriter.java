package io.msm.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;

/**
 * Non-sticky mode's background writes to both nodes of a session ({@link ClusterWrite}): validity
 * records, expiries pushed forward, removals with their markers. A write that
 * misses a node is repaired there once it answers ({@link NodeRepairs}), so that the node's older
 * value is never read in place of the one written elsewhere.
 */
final class ClusterWriter {
    private static final Logger LOG = Logs.get(ClusterWriter.class);
    /** The value of every marker key: only its presence counts. */
    static final byte[] MARKER = {1};

    private final SessionStore store;
    private final NodeHealth health;
    private final NonStickyKeys keys;
    private final Statistics statistics;
    private final BehindFlags flags;

    ClusterWriter(SessionStore store, NodeHealth health, NonStickyKeys keys, Statistics statistics, BehindFlags flags) {
        this.flags = flags;
        this.store = store;
        this.health = health;
        this.keys = keys;
        this.statistics = statistics;
    }

    /** Runs on a backup thread; a later request's write for the same session waits for it. */
    void write(ClusterWrite w) {
        for (SessionId former : w.formerIds) {
            // A request still carrying the old id (another tab, a late AJAX call) then finds it
            // ended, neither missing nor revived by a late store of that request.
            markRemoved(former, w.expiry);
            deleteAll(former);
        }
        if (w.removes()) {
            markRemoved(w.id, w.expiry);
            deleteAll(w.id);
            return;
        }
        String primary = w.id.nodeId();
        if (!health.isKnown(primary)) {
            return;
        }
        String backup = keys.backupNode(primary);
        String validityNode = w.validity == null ? null : primary;
        String backupValidityNode = w.validity == null ? null : backup;
        for (Write missed : writeAll(w.expiry, new Write(validityNode, keys.validity(w.id), w.validity),
                new Write(backupValidityNode, keys.backupValidity(w.id), w.validity))) {
            repairLater(missed, w.expiry);
        }
        // No "behind" marker here: only a write of the session to the backup node alone sets one
        // (NonStickyWriter.writeBackupOnly). Set for a validity record, it outlived its reason and made
        // loads take an older backup copy over a newer one on the session's node.
        if (w.touchData) {
            touch(primary, keys.data(w.id), w.expiry);
            if (backup != null) {
                touch(backup, keys.backup(w.id), w.expiry);
            }
        }
    }

    /** @param expiry as long as any copy of the session could live */
    private void markRemoved(SessionId id, int expiry) {
        String node = id.nodeId();
        if (!health.isKnown(node)) {
            return;
        }
        String backup = keys.backupNode(node);
        // Where only the backup node gets the marker, a Tomcat that still reaches the node would load
        // the node's copy: it asks the backup node for markers only while the node's flag is up.
        boolean flagFirst = backup != null && !health.isUp(node) && health.isUp(backup);
        if (flagFirst) {
            raiseFlag(id, node, backup, expiry, false);
        }
        Write onNode = new Write(node, keys.removed(id), MARKER);
        Write onBackup = new Write(backup, keys.removed(id), MARKER);
        List<Write> missed = writeAll(expiry, onNode, onBackup);
        boolean backupOnly = missed.contains(onNode) && backup != null && !missed.contains(onBackup);
        if (backupOnly) {
            raiseFlag(id, node, backup, expiry, true);
        }
        for (Write w : missed) {
            if (w == onBackup && missed.contains(onNode)) {
                // Neither got it: the backup node may answer first, and its marker must be covered then.
                health.repairLater(backup, NodeRepairs.setFlagged(w.key, MARKER, expiry,
                        () -> flags.raiseLate(node, expiry)));
            } else {
                repairLater(w, expiry);
            }
        }
    }

    /** @param confirm after the marker's write: the flag is read back ({@link BehindFlags#confirm}) */
    private void raiseFlag(SessionId id, String node, String backup, int expiry, boolean confirm) {
        try {
            // Interrupted: the webapp stops, and the marker is all there is.
            if (confirm) {
                flags.confirm(node, expiry);
            } else {
                flags.raise(node, expiry);
            }
        } catch (StoreException e) {
            health.failed(backup, e);
            LOG.warn("session {} was invalidated while memcached node {} did not answer, and node {} did not take"
                    + " the flag that tells other Tomcats to look for that: {}; a Tomcat that reaches node {} may"
                    + " serve the session until this Tomcat deletes it there", id.masked(), node, backup,
                    e.getMessage(), node);
        }
    }

    /** @return true when another Tomcat left the removal marker on the session's node or its backup node */
    boolean removedMeanwhile(SessionId id) {
        String node = id.nodeId();
        if (health.isUp(node) && wasRemoved(node, id)) {
            return true;
        }
        String backup = keys.backupNode(node);
        return backup != null && health.isUp(backup) && wasRemoved(backup, id);
    }

    boolean wasRemoved(String node, SessionId id) {
        try {
            return store.get(node, keys.removed(id)) != null;
        } catch (StoreException e) {
            health.failed(node, e);
            return false;
        }
    }

    /** Deletes every copy of the session and its records on both nodes; the markers stay. */
    void deleteAll(SessionId id) {
        if (!health.isKnown(id.nodeId())) {
            return;
        }
        keysOf(id).forEach((node, onNode) -> onNode.forEach(key -> delete(node, key)));
        statistics.increment(Statistics.Counter.DELETES);
    }

    /**
     * At a stop, for a removal no backup thread got to: its marker and deletes are queued as repairs,
     * which the next start of the webapp in this JVM does ({@link NodeHealth#left}), as for a node
     * that did not answer. Dropped, the session would stay logged in on every other Tomcat.
     */
    void removeLater(SessionId id, int expiry) {
        if (!health.isKnown(id.nodeId())) {
            return;
        }
        keysOf(id).forEach((node, onNode) -> {
            health.repairLater(node, NodeRepairs.set(keys.removed(id), MARKER, expiry));
            onNode.forEach(key -> health.repairLater(node, NodeRepairs.delete(key)));
        });
    }

    /** @return every key a copy or record of the session may have, per node: its own node first */
    private Map<String, List<String>> keysOf(SessionId id) {
        Map<String, List<String>> byNode = new LinkedHashMap<>(4);
        String primary = id.nodeId();
        List<String> onPrimary = new ArrayList<>(4);
        onPrimary.add(keys.data(id));
        onPrimary.add(keys.validity(id));
        if (keys.dataBeforeEncryption(id) != null) {
            // Switching encryption on: a copy left under the clear name would be loaded after this
            // logout, when the sealed one is gone.
            onPrimary.add(keys.dataBeforeEncryption(id));
            onPrimary.add(keys.validityBeforeEncryption(id));
        }
        byNode.put(primary, onPrimary);
        String backup = keys.backupNode(primary);
        if (backup != null) {
            List<String> onBackup = new ArrayList<>(5);
            onBackup.add(keys.backup(id));
            onBackup.add(keys.backupValidity(id));
            onBackup.add(keys.behind(id));
            if (keys.backupBeforeEncryption(id) != null) {
                // Switching encryption on: the backup copy in clear of a session that ended. Nobody reads
                // it, but it holds the content in clear until it expires.
                onBackup.add(keys.backupBeforeEncryption(id));
                onBackup.add(keys.backupValidityBeforeEncryption(id));
            }
            byNode.put(backup, onBackup);
        }
        return byNode;
    }

    /** One set of {@link #writeAll}; a null node (no backup node) is skipped. */
    private static final class Write {
        final String node;
        final String key;
        final byte[] value;

        Write(String node, String key, byte[] value) {
            this.node = node;
            this.key = key;
            this.value = value;
        }
    }

    /**
     * Sends every set first, then waits for them: one round trip of waiting instead of one per key.
     *
     * @return the writes that missed their node, for the caller to repair there later
     */
    private List<Write> writeAll(int expiry, Write... writes) {
        List<SessionStore.Sent> sent = new ArrayList<>(writes.length);
        List<Write> sentWrites = new ArrayList<>(writes.length);
        List<Write> missed = new ArrayList<>(0);
        for (Write w : writes) {
            if (w.node == null) {
                continue;
            }
            if (!health.isUp(w.node)) {
                missed.add(w);
                continue;
            }
            try {
                sent.add(store.send(w.node, w.key, w.value, expiry));
                sentWrites.add(w);
            } catch (StoreException e) {
                health.failed(w.node, e);
                missed.add(w);
            }
        }
        for (int i = 0; i < sent.size(); i++) {
            try {
                store.finish(sent.get(i));
            } catch (StoreException e) {
                health.failed(sent.get(i).nodeId(), e);
                missed.add(sentWrites.get(i));
            }
        }
        return missed;
    }

    /**
     * A marker is set once the node answers again; anything else it missed is deleted there, so
     * that the node's older value is never read in place of the one written elsewhere.
     */
    private void repairLater(Write w, int expiry) {
        health.repairLater(w.node, w.value == MARKER ? NodeRepairs.set(w.key, MARKER, expiry)
                : NodeRepairs.delete(w.key));
    }

    void touch(String node, String key, int expiry) {
        if (!health.isUp(node)) {
            return;
        }
        try {
            store.touch(node, key, expiry);
        } catch (StoreException e) {
            health.failed(node, e);
        }
    }

    /** Deletes now, or once the node answers again ({@link NodeRepairs}). */
    void delete(String node, String key) {
        try {
            health.deleteOrRepairLater(store, node, key);
        } catch (StoreException e) {
            statistics.increment(Statistics.Counter.DELETE_FAILURES);
        }
    }
}

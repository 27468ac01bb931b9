package io.msm.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where non-sticky mode keeps what: the session's node holds its data, validity record and lock;
 * the next node of {@code memcachedNodes} holds the backup copy and its validity record. Markers
 * on both record removals, and on the backup node a write its primary missed.
 */
final class NonStickyKeys {
    private final SessionNames names;
    private final ValiditySeal seal;
    private final Map<String, String> backupNodes = new HashMap<>();

    NonStickyKeys(SessionNames names, List<MemcachedNode> nodes) {
        this(names, nodes, new ValiditySeal(null, java.time.Clock.systemUTC()));
    }

    NonStickyKeys(SessionNames names, List<MemcachedNode> nodes, ValiditySeal seal) {
        this.names = names;
        this.seal = seal;
        for (int i = 0; i < nodes.size() && nodes.size() > 1; i++) {
            backupNodes.put(nodes.get(i).id(), nodes.get((i + 1) % nodes.size()).id());
        }
    }

    /** @return the node that holds the backup copies of the node's sessions; null with a single node */
    String backupNode(String primary) {
        return backupNodes.get(primary);
    }

    String data(SessionId id) {
        return names.of(id);
    }

    /** @return the session's data key before encryption was switched on, while migrating; else null */
    String dataBeforeEncryption(SessionId id) {
        return names.beforeEncryption("", id);
    }

    String validityBeforeEncryption(SessionId id) {
        return names.beforeEncryption("validity:", id);
    }

    /** The backup copy's key from before encryption: never read, but the session's content in clear. */
    String backupBeforeEncryption(SessionId id) {
        return names.beforeEncryption("backup:", id);
    }

    String backupValidityBeforeEncryption(SessionId id) {
        return names.beforeEncryption("backup-validity:", id);
    }

    /** @return the validity record as stored: with its tag under {@code encryptionKeys} ({@link ValiditySeal}) */
    byte[] validityBytes(SessionId id, ValidityRecord v) {
        return seal.seal(names.owner(id), v.encode());
    }

    /** @return the stored validity record; null when there is none, or it is no record or does not verify */
    ValidityRecord validityOf(SessionId id, byte[] stored) {
        return ValidityRecord.decode(seal.open(names.owner(id), stored, id.masked()));
    }

    /** @return true when validity records carry a tag, and one that does not verify counts as missing */
    boolean validitySealed() {
        return seal.isOn();
    }

    String validity(SessionId id) {
        return names.of("validity:", id);
    }

    String backup(SessionId id) {
        return names.of("backup:", id);
    }

    String backupValidity(SessionId id) {
        return names.of("backup-validity:", id);
    }

    String lock(SessionId id) {
        return names.of("lock:", id);
    }

    /** Left on the session's node when it is removed, so no late backup write can bring it back. */
    String removed(SessionId id) {
        return names.of("removed:", id);
    }

    /**
     * Left on the backup node when a write meant for the session's node could not reach it: once
     * that node answers again, its copy is older than the backup's.
     */
    String behind(SessionId id) {
        return names.of("primary-behind:", id);
    }

    /**
     * Left on the node's backup node while any session of the node may have a newer state there, or a
     * removal ({@link BehindFlags}): until then loads need not ask for the session's own markers.
     */
    String nodeBehind(String node) {
        return names.ofWebapp("node-behind:" + node);
    }

    /** Added by the one Tomcat that fires the expired session's {@code sessionDestroyed}. */
    String claim(SessionId id) {
        return names.of("expired:", id);
    }
}

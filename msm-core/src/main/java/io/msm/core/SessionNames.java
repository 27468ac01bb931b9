package io.msm.core;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import javax.crypto.Mac;

/**
 * The memcached key of each thing a session keeps there: the storage key prefix, what the thing is,
 * and the session's name. Without encryption the name is the session id. With encryption it is a
 * keyed hash of the id (HMAC-SHA-256, 43 characters), so a dump of memcached's keys is no list of
 * working session cookies; the node id stays in the cookie, so finding a session needs no lookup.
 */
final class SessionNames {
    /** Base64url of 32 bytes, without padding. */
    static final int HASHED_LENGTH = 43;

    private final String prefix;
    private final ThreadLocal<Mac> macs;
    private final boolean migrating;

    /** @param keys null: names are the ids themselves */
    SessionNames(String prefix, EncryptionKeys keys) {
        this(prefix, keys, false);
    }

    /**
     * @param migrating {@code readUnencryptedSessions}: sessions written before encryption was on
     *     live under their clear names, and are looked up there too ({@link #beforeEncryption})
     */
    SessionNames(String prefix, EncryptionKeys keys, boolean migrating) {
        this.prefix = prefix;
        this.migrating = keys != null && migrating;
        byte[] namesKey = keys == null ? null : keys.namesKey(); // derived once, not per thread
        this.macs = keys == null ? null : ThreadLocal.withInitial(() -> EncryptionKeys.hmac(namesKey));
    }

    /** The key of the session's data. */
    String of(SessionId id) {
        return prefix + name(id);
    }

    /** The key of something else the session keeps, such as {@code "lock:"}. */
    String of(String what, SessionId id) {
        return prefix + what + name(id);
    }

    /**
     * @return the key a session had before encryption was switched on, while migrating to it; null
     *     otherwise. A session found only there is written back sealed under its hashed name.
     */
    String beforeEncryption(String what, SessionId id) {
        return migrating ? prefix + what + id : null;
    }

    /** The key of something the webapp keeps for no one session, such as a node's flag. */
    String ofWebapp(String what) {
        return prefix + what;
    }

    /** What an encrypted frame is bound to: the clear id, with the prefix that tells webapps apart. */
    String owner(SessionId id) {
        return prefix + id;
    }

    private String name(SessionId id) {
        if (macs == null) {
            return id.toString();
        }
        String name = id.hashedName(this);
        if (name == null) {
            byte[] hash = macs.get().doFinal(id.toString().getBytes(StandardCharsets.UTF_8));
            name = Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
            id.hashedName(this, name);
        }
        return name;
    }

}

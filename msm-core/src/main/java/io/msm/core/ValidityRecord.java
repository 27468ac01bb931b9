package io.msm.core;

import java.nio.ByteBuffer;

/**
 * The small record that keeps a non-sticky session's idle timeout right across the cluster: when
 * it was last accessed, anywhere, and when its stored copy's expiry was last pushed forward.
 * Written after a request when the recorded last access is older than the grace; the session
 * itself is rewritten only when it changed. The recorded last access so lags the real one by less
 * than the grace, and a session counts as expired once idle for its timeout plus the grace: never
 * early, and late by less than the grace, as with Tomcat's own expiry check that runs once a minute.
 */
final class ValidityRecord {
    private static final byte VERSION = 1;
    private static final int SIZE = 1 + 8 + 4 + 8;

    final long lastAccessedTime;
    final int maxInactiveInterval;
    final long dataRefreshedAt;

    ValidityRecord(long lastAccessedTime, int maxInactiveInterval, long dataRefreshedAt) {
        this.lastAccessedTime = lastAccessedTime;
        this.maxInactiveInterval = maxInactiveInterval;
        this.dataRefreshedAt = dataRefreshedAt;
    }

    /**
     * A tenth of the timeout, at most a minute: how far the recorded last access may lag before the
     * record is written again. A session that never expires has no expiry to judge by it, and records
     * its access as the longest grace allows, once a minute, not at every request.
     */
    static long graceMillis(int maxInactiveInterval) {
        return maxInactiveInterval <= 0 ? 60_000L : Math.min(maxInactiveInterval * 100L, 60_000L);
    }

    /**
     * This record under the timeout its session's copy holds, from the later of the two last accesses.
     * A record of another timeout than the copy's is older than the copy: a timeout change stores the
     * copy first, so such a record was written by a request that loaded the session before the change
     * (or was put back in memcached). The copy's timeout holds; the record's access may be the newer.
     */
    ValidityRecord withTimeoutOf(long copyLastAccess, int copyMaxInactive) {
        return new ValidityRecord(Math.max(lastAccessedTime, copyLastAccess), copyMaxInactive, dataRefreshedAt);
    }

    boolean isExpired(long now) {
        return now > expiresAt();
    }

    /** @return when a session last accessed then, with this timeout, expires if nobody uses it again */
    static long expiresAt(long lastAccess, int maxInactive) {
        return new ValidityRecord(lastAccess, maxInactive, 0).expiresAt();
    }

    long expiresAt() {
        return maxInactiveInterval <= 0 ? Long.MAX_VALUE
                : lastAccessedTime + maxInactiveInterval * 1000L + graceMillis(maxInactiveInterval);
    }

    byte[] encode() {
        return ByteBuffer.allocate(SIZE).put(VERSION).putLong(lastAccessedTime).putInt(maxInactiveInterval)
                .putLong(dataRefreshedAt).array();
    }

    /** @return null for bytes that are not a validity record of this version */
    static ValidityRecord decode(byte[] bytes) {
        if (bytes == null || bytes.length != SIZE || bytes[0] != VERSION) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(bytes, 1, SIZE - 1);
        return new ValidityRecord(in.getLong(), in.getInt(), in.getLong());
    }
}

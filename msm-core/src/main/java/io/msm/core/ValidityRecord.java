package io.msm.core;

import java.nio.ByteBuffer;

/**
 * The small record that keeps a non-sticky session's idle timeout right across the cluster: when
 * it was last accessed, anywhere, and when its stored copy's expiry was last pushed forward.
 * Written after every request; the session itself is rewritten only when it changed.
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

    boolean isExpired(long now) {
        return maxInactiveInterval > 0 && now - lastAccessedTime > maxInactiveInterval * 1000L;
    }

    long expiresAt() {
        return maxInactiveInterval <= 0 ? Long.MAX_VALUE : lastAccessedTime + maxInactiveInterval * 1000L;
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

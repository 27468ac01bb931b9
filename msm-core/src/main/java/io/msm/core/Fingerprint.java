package io.msm.core;

import java.util.zip.Adler32;
import java.util.zip.CRC32;

/**
 * 64 bits that change whenever what a backup would store changes, apart from the access time.
 * Two independent checksums side by side; both are JVM intrinsics, so this costs far less than
 * the memcached round trip it saves.
 */
final class Fingerprint {
    private Fingerprint() {
    }

    static long of(byte[] payload, long creationTime, int maxInactiveInterval, String authType) {
        CRC32 crc = new CRC32();
        crc.update(payload, 0, payload.length);
        Adler32 adler = new Adler32();
        adler.update(payload, 0, payload.length);
        long meta = creationTime * 31 + maxInactiveInterval;
        meta = meta * 31 + (authType == null ? 0 : authType.hashCode());
        long fp = (crc.getValue() << 32 | adler.getValue()) ^ (meta * 0x9E3779B97F4A7C15L);
        return fp == 0 ? 1 : fp; // 0 means "nothing stored"
    }
}

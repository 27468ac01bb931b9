package io.msm.core;

/**
 * What the engine needs to share sessions with memcached-session-manager 2.3.2: the key prefix its
 * Tomcats use ({@link StorageKeyPrefix#buildMsm2}) and its Java serialization.
 */
public final class Msm2Format {
    final String keyPrefix;
    final Msm2Serialization serialization;

    public Msm2Format(String keyPrefix, Msm2Serialization serialization) {
        this.keyPrefix = keyPrefix;
        this.serialization = serialization;
    }
}

package io.msm.serializers.kryo;

import io.msm.core.Transcoder;
import io.msm.serializers.SerialFilter;

/** Kryo's transcoder with a filter no factory hands out: what an attacker's writer would be. */
public final class UncheckedKryo {
    private UncheckedKryo() {
    }

    public static Transcoder create(ClassLoader loader, SerialFilter filter) {
        return new KryoTranscoder(loader, filter);
    }
}

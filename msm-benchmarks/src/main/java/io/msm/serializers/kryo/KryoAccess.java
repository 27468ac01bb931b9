package io.msm.serializers.kryo;

import io.msm.core.Transcoder;
import io.msm.serializers.SerialFilter;

/** Reaches the Kryo transcoder's constructor with a filter no factory hands out. */
public final class KryoAccess {
    private KryoAccess() {
    }

    public static Transcoder create(ClassLoader loader, SerialFilter filter) {
        return new KryoTranscoder(loader, filter);
    }
}

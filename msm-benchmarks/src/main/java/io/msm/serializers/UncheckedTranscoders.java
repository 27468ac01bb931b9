package io.msm.serializers;

import io.msm.core.Transcoder;
import io.msm.serializers.kryo.KryoAccess;

/** The transcoders without class checks or limits: the baseline the checks' cost is measured against. */
public final class UncheckedTranscoders {
    private UncheckedTranscoders() {
    }

    public static Transcoder java(ClassLoader loader) {
        return new JavaSerializationTranscoder(loader, SerialFilter.unchecked());
    }

    public static Transcoder kryo(ClassLoader loader) {
        return KryoAccess.create(loader, SerialFilter.unchecked());
    }
}

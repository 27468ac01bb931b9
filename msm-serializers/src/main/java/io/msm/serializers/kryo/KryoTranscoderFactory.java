package io.msm.serializers.kryo;

import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderFactory;
import io.msm.serializers.SerialFilter;

/**
 * {@code transcoderFactoryClass="io.msm.serializers.kryo.KryoTranscoderFactory"}: Kryo 5 (shaded
 * into msm's jar) with the webapp's class loader, compatible field serialization for the webapp's
 * classes, and the same {@code serialFilter} as Java serialization.
 */
public final class KryoTranscoderFactory implements TranscoderFactory {
    @Override
    public Transcoder create(TranscoderContext context) {
        return new KryoTranscoder(context.classLoader(), SerialFilter.parse(context.serialFilter(),
                context.reportOnly()));
    }
}

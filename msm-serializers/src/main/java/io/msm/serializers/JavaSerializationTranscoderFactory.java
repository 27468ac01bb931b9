package io.msm.serializers;

import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderFactory;

/**
 * The default transcoder: the JDK's own serialization, classes resolved by the webapp and checked
 * by {@code serialFilter} before they are loaded.
 */
public final class JavaSerializationTranscoderFactory implements TranscoderFactory {
    @Override
    public Transcoder create(TranscoderContext context) {
        return new JavaSerializationTranscoder(context.classLoader(),
                SerialFilter.parse(context.serialFilter(), context.reportOnly()));
    }
}

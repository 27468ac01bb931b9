package io.msm.core;

/** Named by {@code transcoderFactoryClass}; needs a public no-argument constructor. */
public interface TranscoderFactory {
    /**
     * @throws IllegalArgumentException when the context's filter settings are malformed; the
     *     message names the attribute and what to write, and the webapp does not start
     */
    Transcoder create(TranscoderContext context);
}

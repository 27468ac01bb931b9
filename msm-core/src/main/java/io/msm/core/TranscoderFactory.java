package io.msm.core;

/** Named by {@code transcoderFactoryClass}; needs a public no-argument constructor. */
public interface TranscoderFactory {
    /** @param webappClassLoader resolves the webapp's own classes while decoding */
    Transcoder create(ClassLoader webappClassLoader);
}

package io.msm.core;

/** What a transcoder factory is given: the webapp's class loader and the operator's filter settings. */
public final class TranscoderContext {
    private final ClassLoader classLoader;
    private final String serialFilter;
    private final boolean reportOnly;

    public TranscoderContext(ClassLoader classLoader, String serialFilter, boolean reportOnly) {
        this.classLoader = classLoader;
        this.serialFilter = serialFilter;
        this.reportOnly = reportOnly;
    }

    /** Resolves the webapp's own classes while decoding. */
    public ClassLoader classLoader() {
        return classLoader;
    }

    /** @return the {@code serialFilter} attribute as written, or null for the built-in lists */
    public String serialFilter() {
        return serialFilter;
    }

    /** @return true when {@code serialFilterMode="report"}: classes are logged once, not rejected */
    public boolean reportOnly() {
        return reportOnly;
    }
}

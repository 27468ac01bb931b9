package io.msm.core;

/**
 * An attribute's stored bytes that this Tomcat could not turn back into a value (its class missing
 * here, or changed incompatibly): during a rolling upgrade the Tomcats of the other version still
 * can. The session carries them unread and its next store writes them back as they were, until the
 * webapp here sets or removes that name. They are never deserialized here; only the transcoder that
 * made them knows what {@link #kind} means.
 */
public final class UnreadAttribute {
    private final int kind;
    private final byte[] bytes;

    /**
     * @param kind how the bytes were written, as the transcoder's format names it
     * @param bytes the value's bytes; not copied, never changed afterwards
     */
    public UnreadAttribute(int kind, byte[] bytes) {
        this.kind = kind;
        this.bytes = bytes;
    }

    public int kind() {
        return kind;
    }

    /** @return the value's bytes, to be written as they are and never changed */
    public byte[] bytes() {
        return bytes;
    }
}

package io.msm.core;

/**
 * Turns session content into bytes and back, with the webapp's class loader. Implementations
 * are thread-safe. {@link #encode} never fails for one bad attribute: it leaves that attribute out
 * and says so in the log.
 */
public interface Transcoder {
    /** @return 1 to 255, stored in every frame so that frames stay readable after a change of transcoder */
    int id();

    byte[] encode(SessionContent content);

    /**
     * Encodes like {@link #encode(SessionContent)}, reusing the bytes {@code blocks} kept of values
     * that provably did not change since, and keeps this encode's bytes in it for the next one.
     * The result must decode exactly as a full encode would.
     */
    default byte[] encode(SessionContent content, EncodedBlocks blocks) {
        return encode(content);
    }

    /** @throws TranscoderException when the bytes cannot be turned back into content */
    SessionContent decode(byte[] data) throws TranscoderException;

    /** Decodes like {@link #decode(byte[])} and keeps the bytes of each value in {@code blocks}. */
    default SessionContent decode(byte[] data, EncodedBlocks blocks) throws TranscoderException {
        return decode(data);
    }

    /**
     * @return whether a value of this kind can be stored; Tomcat asks in a webapp marked
     *     {@code <distributable/>}, and refuses {@code setAttribute} of a value denied
     */
    default boolean canStore(Object value) {
        return value instanceof java.io.Serializable;
    }

    /**
     * @return values (attributes, a principal) left out of what this transcoder wrote so far because
     *     it could not store them; each encode that leaves one out counts it
     */
    default long attributesLeftOut() {
        return 0;
    }

    /**
     * @return the largest encoded content {@link #decode} accepts; the engine stores nothing larger,
     *     since no Tomcat could read it back
     */
    default int maxContentBytes() {
        return Integer.MAX_VALUE;
    }
}

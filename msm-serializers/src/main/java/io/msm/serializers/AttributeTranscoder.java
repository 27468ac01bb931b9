package io.msm.serializers;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.security.Principal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;

import io.msm.core.Logs;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderException;

/**
 * The envelope both transcoders share: each attribute is serialized on its own, so an attribute
 * that cannot be written is named in the log once and left out, one that cannot be read back is
 * dropped, and the rest of the session survives either way. Bytes that the {@link SerialFilter}
 * refuses are not a bad attribute but a forged session: the whole session is rejected.
 *
 * <pre>
 * format 2 | principal block | attribute count 4 | per attribute: name (modified UTF-8) | block
 * block: kind 1 (0 = none, 1 = Java serialization, 2 = Kryo) | length 4 | bytes
 * Java bytes: a whole stream, or a reset (TC_RESET) and one object of a stream the block before began
 * </pre>
 *
 * Format 1, written by the first Java transcoder, had no kind byte; it is still read.
 */
public abstract class AttributeTranscoder<C> implements Transcoder {
    public static final int JAVA = 1;
    public static final int KRYO = 2;
    private static final int FORMAT_WITHOUT_KIND = 1;
    private static final int FORMAT = 2;
    private static final Logger LOG = Logs.get(AttributeTranscoder.class);

    protected final SerialFilter filter;
    /** Messages already logged, so that a busy webapp does not flood the log. */
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    protected AttributeTranscoder(SerialFilter filter) {
        this.filter = filter;
    }

    /**
     * Writes one value as one block: {@code out.beginBlock(kind)}, the bytes, {@code out.endBlock}.
     *
     * @throws Exception when the value cannot be serialized; whatever was written is cut off again
     *     and the attribute is left out
     */
    protected abstract void write(C call, String name, Object value, SessionBytes out) throws Exception;

    /**
     * @param guard what the session's decode may still spend; its limits apply to this value too
     * @throws RejectedContentException (possibly as a cause) when the filter refuses the bytes
     * @throws Exception when the value cannot be read back; the attribute is then dropped
     */
    protected abstract Object read(C call, int kind, byte[] data, int offset, int length, DecodeGuard guard)
            throws Exception;

    @Override
    public int maxContentBytes() {
        return filter.maxBytes();
    }

    /** @return what one encode or decode call keeps for all its attributes (Kryo: a borrowed instance) */
    protected abstract C open();

    /** Ends what {@link #open} began. */
    protected abstract void close(C call);

    /** Logs a WARN line once per key. */
    protected final void warnOnce(String key, String format, Object... args) {
        if (reported.add(key)) {
            LOG.warn(format, args);
        }
    }

    @Override
    public byte[] encode(SessionContent content) {
        SessionBytes out = new SessionBytes(4096, filter.maxBytes());
        C call = open();
        try {
            out.write(FORMAT);
            if (content.principal() == null || !serialize(call, "(principal)", content.principal(), out)) {
                out.beginBlock(0);
            }
            int countAt = out.size();
            out.writeInt(0);
            int count = 0;
            for (Map.Entry<String, Object> e : content.attributes().entrySet()) {
                int start = out.size();
                out.writeUTF(e.getKey());
                if (serialize(call, e.getKey(), e.getValue(), out)) {
                    count++;
                } else {
                    out.cutTo(start);
                }
            }
            out.patchInt(countAt, count);
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        } finally {
            close(call);
        }
        return out.toByteArray();
    }

    private boolean serialize(C call, String name, Object value, SessionBytes out) {
        int start = out.size();
        try {
            write(call, name, value, out);
            return true;
        } catch (Exception | StackOverflowError e) {
            out.cutTo(start);
            String type = value == null ? "null" : value.getClass().getName();
            warnOnce(name + "/" + type, "session attribute '{}' of class {} cannot be serialized and is left out of"
                    + " the stored session ({}); reported once per attribute and class", name, type, e.toString());
            return false;
        }
    }

    @Override
    public SessionContent decode(byte[] data) throws TranscoderException {
        if (data.length > filter.maxBytes()) {
            throw new TranscoderException("session content of " + data.length + " bytes exceeds "
                    + SerialFilter.ATTRIBUTE + " maxbytes=" + filter.maxBytes(), null);
        }
        DecodeGuard guard = DecodeGuard.start(filter);
        C call = open();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int format = in.readUnsignedByte();
            if (format != FORMAT && format != FORMAT_WITHOUT_KIND) {
                throw new TranscoderException("attribute format " + format + " is not understood", null);
            }
            boolean kinds = format == FORMAT;
            Object p = readBlock(call, in, data, kinds, "(principal)", guard);
            Principal principal = p instanceof Principal ? (Principal) p : null;
            int count = in.readInt();
            if (count < 0 || count > data.length) {
                throw new TranscoderException("attribute count " + count + " is impossible", null);
            }
            Map<String, Object> attributes = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                String name = in.readUTF();
                Object value = readBlock(call, in, data, kinds, name, guard);
                if (value != null) {
                    attributes.put(name, value);
                }
            }
            return new SessionContent(attributes, principal);
        } catch (IOException e) {
            throw new TranscoderException("session bytes are malformed: " + e, e);
        } finally {
            close(call);
        }
    }

    private Object readBlock(C call, DataInputStream in, byte[] data, boolean kinds, String name, DecodeGuard guard)
            throws IOException, TranscoderException {
        int kind = kinds ? in.readUnsignedByte() : JAVA;
        int length = in.readInt();
        if (kinds && kind == 0) {
            return null;
        }
        if (!kinds && length < 0) {
            return null;
        }
        int offset = data.length - in.available();
        if (length < 0 || length > in.available()) {
            throw new IOException("block of " + length + " bytes overruns the data");
        }
        in.skipBytes(length);
        try {
            guard.beginAttribute();
            return read(call, kind, data, offset, length, guard);
        } catch (Exception | StackOverflowError e) {
            RejectedContentException rejected = RejectedContentException.in(e);
            if (rejected != null) {
                throw new TranscoderException("session attribute '" + name + "' is rejected: "
                        + rejected.getMessage() + (rejected.isLimit() ? "; the whole session is discarded"
                            : "; the whole session is discarded, nothing was instantiated from the refused class"),
                        rejected);
            }
            warnOnce("read/" + name + "/" + e.getClass().getName(), "session attribute '{}' cannot be read back and"
                    + " is dropped ({}); the rest of the session is kept", name, e.toString());
            return null;
        }
    }
}

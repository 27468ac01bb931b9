package io.msm.serializers;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;

import io.msm.core.Logs;

import io.msm.core.EncodedBlocks;
import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderException;
import io.msm.core.UnreadAttribute;

/**
 * The envelope both transcoders share: each attribute is serialized on its own, so an attribute
 * that cannot be written is named in the log once and left out, one that cannot be read back (its
 * class missing or changed here, as during a rolling upgrade) is carried as its bytes
 * ({@link UnreadAttribute}) and written back as it was, and the rest of the session survives either
 * way. Bytes that the {@link SerialFilter} refuses are not a bad attribute but a forged session: the
 * whole session is rejected.
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

    /** Larger sessions keep no bytes: serialized in full at every comparison, as before, rather than held twice. */
    static final int MAX_KEPT_BYTES = 256 * 1024;
    private static final int FAILED = 0;
    private static final int REUSED = 1;
    private static final int WRITTEN = 2;
    /**
     * Its last bytes stand in for a value that changed under every attempt: in the copy, but not as
     * memory holds it: counted apart (a store while it is in use writes it, but is not done).
     */
    private static final int CARRIED = 4;
    /** Written while a parallel request changed it: tried this often before the value counts as changing. */
    private static final int ATTEMPTS_WHILE_CHANGING = 3;
    /** {@link #serialize}: the value changed under every attempt (a {@code ConcurrentModificationException}). */
    private static final int CHANGING = 3;
    /** {@link #readValue}: the bytes did not turn back into a value here. */
    private static final Object UNREADABLE = new Object();

    protected final SerialFilter filter;
    /** Messages already logged, so that a busy webapp does not flood the log. */
    private final ReportedOnce reported = new ReportedOnce(LOG);
    /** Values left out of what was written: logged once each, counted every time. */
    private final java.util.concurrent.atomic.LongAdder leftOut = new java.util.concurrent.atomic.LongAdder();

    protected AttributeTranscoder(SerialFilter filter) {
        this.filter = filter;
    }

    @Override
    public long attributesLeftOut() {
        return leftOut.sum();
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
        if (reported.first(key)) {
            LOG.warn(format, args);
        }
    }

    @Override
    public byte[] encode(SessionContent content) {
        return encode(content, null);
    }

    /**
     * Reuses the bytes of each value whose {@link Shadow} still matches: the same objects in the same
     * state as when those bytes were made, so they decode exactly as a new serialization would.
     * Everything else is serialized, as without {@code blocks}.
     */
    @Override
    public byte[] encode(SessionContent content, EncodedBlocks blocks) {
        Kept last = blocks != null && blocks.kept() instanceof Kept && ((Kept) blocks.kept()).owner == this
                ? (Kept) blocks.kept() : null;
        Map<String, Object> attributes = content.attributes();
        Map<String, UnreadAttribute> unread = stillUnread(content);
        // Each value is compared with its shadow once, here: an unchanged session is its last payload.
        boolean principalSame = last != null && unchanged(last.blocks.get(null), content.principal());
        boolean[] same = new boolean[attributes.size()];
        boolean all = last != null && last.complete && attributes.size() == last.order.length
                && (content.principal() == null ? !last.hasPrincipal : principalSame)
                && unread.equals(last.unread); // the very same bytes: UnreadAttribute has no equals of its own
        int i = 0;
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            same[i] = last != null && unchanged(last.blocks.get(e.getKey()), e.getValue());
            all = all && same[i] && e.getKey().equals(last.order[i]);
            i++;
        }
        if (all) {
            blocks.keep(last, same.length + (principalSame ? 1 : 0), 0);
            return last.payload;
        }
        Map<String, Block> made = blocks == null ? null : new HashMap<String, Block>();
        List<String> order = new ArrayList<>(same.length);
        SessionBytes out = new SessionBytes(last == null ? 4096 : last.payload.length + 256, filter.maxBytes());
        int reused = 0;
        int written = 0;
        int carried = 0;
        int principal;
        C call = open();
        try {
            out.write(FORMAT);
            principal = content.principal() == null ? FAILED
                    : block(call, null, "(principal)", content.principal(), principalSame, out, last, made);
            if (principal == FAILED) {
                out.beginBlock(0);
                if (content.principal() != null) {
                    leftOut.increment();
                }
            }
            reused += principal == REUSED ? 1 : 0;
            written += principal == WRITTEN ? 1 : 0;
            carried += principal == CARRIED ? 1 : 0;
            int countAt = out.size();
            out.writeInt(0);
            i = 0;
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                int start = out.size();
                out.writeUTF(e.getKey());
                int done = block(call, e.getKey(), e.getKey(), e.getValue(), same[i++], out, last, made);
                if (done == FAILED) {
                    out.cutTo(start);
                    leftOut.increment();
                } else {
                    order.add(e.getKey());
                    reused += done == REUSED ? 1 : 0;
                    written += done == WRITTEN ? 1 : 0;
                    carried += done == CARRIED ? 1 : 0;
                }
            }
            for (Map.Entry<String, UnreadAttribute> e : unread.entrySet()) {
                out.writeUTF(e.getKey());
                int block = out.beginBlock(e.getValue().kind());
                out.write(e.getValue().bytes(), 0, e.getValue().bytes().length);
                out.endBlock(block); // within the limit: the same filter's decode read them
            }
            out.patchInt(countAt, order.size() + unread.size());
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        } finally {
            close(call);
        }
        byte[] payload = out.toByteArray();
        if (blocks != null) {
            blocks.keep(Kept.of(this, payload, order, unread, made, principal != FAILED, true), reused, written, carried);
        }
        return payload;
    }

    /** @return the unread attributes that no value of the same name replaced: written back as they were */
    private static Map<String, UnreadAttribute> stillUnread(SessionContent content) {
        Map<String, UnreadAttribute> unread = content.unread();
        if (unread.isEmpty()) {
            return unread;
        }
        Map<String, UnreadAttribute> left = new LinkedHashMap<>(unread);
        left.keySet().removeAll(content.attributes().keySet());
        return left;
    }

    /** @return true when the block was made from this very value, which is still in the state it was */
    private static boolean unchanged(Block b, Object value) {
        return b != null && b.value == value && value != null && b.shadow != null && b.shadow.matches(value);
    }

    /**
     * Writes one value's block, reused from {@code last} when its shadow matches.
     *
     * @param key the attribute's name, null for the principal
     * @param same the value's shadow in {@code last} matches: its bytes are reused
     * @param made receives what the next encode may reuse; null: nothing is kept
     * @return {@link #REUSED}, {@link #WRITTEN}, {@link #CARRIED}, or {@link #FAILED} when the value is left out
     */
    private int block(C call, String key, String name, Object value, boolean same, SessionBytes out, Kept last,
            Map<String, Block> made) {
        int start = out.size();
        if (same) {
            Block old = last.blocks.get(key);
            out.write(last.payload, old.offset, old.length);
            made.put(key, new Block(value, old.shadow, start, old.length));
            return REUSED;
        }
        // Taken before serializing: a change while the bytes are made then fails the next match.
        Shadow shadow = made == null ? null : Shadow.of(value);
        int outcome = serialize(call, name, value, out);
        if (outcome == CHANGING) {
            Block old = last == null ? null : last.blocks.get(key);
            if (old != null) {
                // Its last bytes rather than none: a copy without it would lose it if this Tomcat died before
                // the next comparison, which follows the end of the request changing it. Carried on for the
                // next encode, should the value still be changing then, but never reused as they are.
                out.write(last.payload, old.offset, old.length);
                if (made != null) {
                    made.put(key, new Block(value, null, start, old.length));
                }
                return CARRIED;
            }
            warnOnce(name + "/changing", "session attribute '{}' was changed by a parallel request each time it was"
                    + " serialized and is left out of this copy; the next backup writes it (reported once per"
                    + " attribute)", name);
            return FAILED;
        }
        if (outcome == FAILED) {
            return FAILED;
        }
        // Changed while it was written and changed back since: these bytes may be of neither state. Without
        // a shadow, never reused, only kept for a write that a parallel change defeats (CHANGING).
        if (made != null && (shadow == null || shadow.matches(value))) {
            made.put(key, new Block(value, shadow, start, out.size() - start));
        }
        return WRITTEN;
    }

    /** @return {@link #WRITTEN}, {@link #FAILED} (logged), or {@link #CHANGING} */
    private int serialize(C call, String name, Object value, SessionBytes out) {
        int start = out.size();
        for (int attempt = 1; ; attempt++) {
            try {
                write(call, name, value, out);
                return WRITTEN;
            } catch (Exception | StackOverflowError | LinkageError e) {
                out.cutTo(start);
                if (changedMeanwhile(e)) {
                    if (attempt < ATTEMPTS_WHILE_CHANGING) {
                        continue; // a parallel request's change is over in a moment
                    }
                    return CHANGING;
                }
                String type = value == null ? "null" : value.getClass().getName();
                warnOnce(name + "/" + type, "session attribute '{}' of class {} cannot be serialized and is left out of"
                        + " the stored session ({}); reported once per attribute and class", name, type, e.toString());
                return FAILED;
            }
        }
    }

    /** @return true when a collection in the value was changed while it was written (Kryo wraps it) */
    private static boolean changedMeanwhile(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.util.ConcurrentModificationException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public SessionContent decode(byte[] data) throws TranscoderException {
        return decode(data, null);
    }

    /** Keeps each value's block, with its shadow taken before anyone else holds the value, for the next encode. */
    @Override
    public SessionContent decode(byte[] data, EncodedBlocks blocks) throws TranscoderException {
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
            // Blocks without their kind (format 1) are not what an encode writes: not kept.
            Map<String, Block> made = blocks != null && kinds ? new HashMap<String, Block>() : null;
            List<String> order = new ArrayList<>();
            Map<String, UnreadAttribute> unread = new LinkedHashMap<>();
            boolean principalBlock = kinds && data.length > 1 && data[1] != 0;
            Object p = readBlock(call, in, data, kinds, null, "(principal)", guard, made, unread);
            Principal principal = p instanceof Principal ? (Principal) p : null;
            int count = in.readInt();
            if (count < 0 || count > data.length) {
                throw new TranscoderException("attribute count " + count + " is impossible", null);
            }
            Map<String, Object> attributes = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                String name = in.readUTF();
                Object value = readBlock(call, in, data, kinds, name, name, guard, made, unread);
                if (value != null) {
                    attributes.put(name, value);
                    order.add(name);
                }
            }
            if (made != null) {
                // A block that did not read back is in these bytes yet not in the content: never the answer as a whole.
                boolean complete = order.size() + unread.size() == count && (principalBlock == (principal != null));
                blocks.keep(Kept.of(this, data, order, unread, made, principalBlock, complete), 0, 0);
            }
            return new SessionContent(attributes, principal, unread);
        } catch (IOException e) {
            throw new TranscoderException("session bytes are malformed: " + e, e);
        } finally {
            close(call);
        }
    }

    /** @param unread receives an attribute whose bytes do not turn back into a value here (not the principal) */
    private Object readBlock(C call, DataInputStream in, byte[] data, boolean kinds, String key, String name,
            DecodeGuard guard, Map<String, Block> made, Map<String, UnreadAttribute> unread)
            throws IOException, TranscoderException {
        int start = data.length - in.available();
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
        Object value = readValue(call, kind, data, offset, length, name, guard);
        if (value == UNREADABLE) {
            if (key != null) {
                unread.put(key, new UnreadAttribute(kind, Arrays.copyOfRange(data, offset, offset + length)));
            }
            return null;
        }
        if (made != null && value != null) {
            made.put(key, new Block(value, Shadow.of(value), start, offset + length - start)); // null: not reused
        }
        return value;
    }

    private Object readValue(C call, int kind, byte[] data, int offset, int length, String name, DecodeGuard guard)
            throws TranscoderException {
        try {
            guard.beginAttribute();
            return read(call, kind, data, offset, length, guard);
        } catch (Exception | StackOverflowError | LinkageError e) {
            RejectedContentException rejected = RejectedContentException.in(e);
            if (rejected != null) {
                // Names and classes come from the bytes: printed so that they cannot forge log lines.
                throw new TranscoderException("session attribute '" + ReportedOnce.printable(name) + "' is rejected: "
                        + ReportedOnce.printable(rejected.getMessage(), 400) + (rejected.isLimit() ? "; the whole session is discarded"
                            : "; the whole session is discarded, nothing was instantiated from the refused class"),
                        rejected);
            }
            warnOnce("read/" + name + "/" + e.getClass().getName(), "session attribute '{}' cannot be read back here"
                    + " ({}): the webapp here does not see it, and the session's next store writes its bytes back as"
                    + " they were, for the Tomcats that can read it, unless the webapp here sets or removes it; the rest"
                    + " of the session is kept (reported once per attribute and failure)", ReportedOnce.printable(name),
                    ReportedOnce.printable(e.toString()));
            return UNREADABLE;
        }
    }

    /** What one encode or decode of a session kept for the next encode: its payload, and where each block lies. */
    private static final class Kept {
        final AttributeTranscoder<?> owner;
        final byte[] payload;
        /** The attributes in the payload, in its order, without those {@link #unread}. */
        final String[] order;
        /** The attributes in the payload that were not read back: the very objects, compared by identity. */
        final Map<String, UnreadAttribute> unread;
        /** By attribute name; the principal's under null. */
        final Map<String, Block> blocks;
        /** The payload holds a principal block (with or without a shadow). */
        final boolean hasPrincipal;
        /** The payload holds exactly {@link #order} and the principal: it may be reused whole. */
        final boolean complete;

        private Kept(AttributeTranscoder<?> owner, byte[] payload, List<String> order,
                Map<String, UnreadAttribute> unread, Map<String, Block> blocks, boolean hasPrincipal, boolean complete) {
            this.owner = owner;
            this.payload = payload;
            this.order = order.toArray(new String[0]);
            this.unread = unread.isEmpty() ? Collections.<String, UnreadAttribute>emptyMap() : unread;
            this.blocks = blocks;
            this.hasPrincipal = hasPrincipal;
            this.complete = complete;
        }

        /** @return null for a payload too large to keep a second copy of beside the session */
        static Kept of(AttributeTranscoder<?> owner, byte[] payload, List<String> order,
                Map<String, UnreadAttribute> unread, Map<String, Block> blocks, boolean hasPrincipal, boolean complete) {
            return payload.length > MAX_KEPT_BYTES ? null
                    : new Kept(owner, payload, order, unread, blocks, hasPrincipal, complete);
        }
    }

    /** One value's block in a kept payload (its kind, length and bytes), and the value it was made from. */
    private static final class Block {
        final Object value;
        /** Null when the value's state cannot be recorded: the bytes are then never reused as they are. */
        final Shadow shadow;
        final int offset;
        final int length;

        Block(Object value, Shadow shadow, int offset, int length) {
            this.value = value;
            this.shadow = shadow;
            this.offset = offset;
            this.length = length;
        }
    }
}

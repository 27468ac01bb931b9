package io.msm.core;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Non-sticky mode: the last copy of each session this Tomcat decoded or stored, kept with the exact
 * bytes memcached holds for it. A load that gets the same bytes back (nobody stored the session
 * since) takes the kept session instead of deserializing it again: decoding was most of a
 * non-sticky request's cost. Any other bytes, a missing copy, a backup copy, a merge or a failed
 * store drop it; invalidation and expiry are judged from memcached as before, since the bytes are
 * read every time.
 *
 * <p>What is given out is the kept attribute objects themselves, as the previous request on this
 * Tomcat left them, which equal what memcached holds (the request's end stored any change, found by
 * encoding). An attribute changed in place outside any request, by a thread of the webapp's own,
 * would be seen here where a decode would not see it; no request of another Tomcat sees it either way.
 *
 * <p>Bounded by count and by weight (frame bytes times {@link #OBJECTS_PER_FRAME_BYTE}), least recently
 * used first out; the lock is held only while the map changes, never across a comparison of frames,
 * a memcached round trip or a decode. Attributes that listen for activation hear
 * {@code sessionDidActivate} at every load, on the same objects, as they do with a decode.
 */
final class NearCopies {
    static final int MAX_COPIES = 10_000;
    /** The decoded objects take several times their frame's bytes: what is counted per copy. */
    static final int OBJECTS_PER_FRAME_BYTE = 4;

    /** One session as memcached holds it, decoded. */
    static final class Copy {
        final byte[] frame;
        final SessionSnapshot snapshot;
        final long fingerprint;
        /** The bytes of each attribute, made from these objects: the request's encode reuses them. */
        final EncodedBlocks blocks;
        /** Given to a request that has not ended: not given to another until it comes back. */
        boolean lent;

        Copy(byte[] frame, SessionSnapshot snapshot, long fingerprint, EncodedBlocks blocks, boolean lent) {
            this.frame = frame;
            this.snapshot = snapshot;
            this.fingerprint = fingerprint;
            this.blocks = blocks;
            this.lent = lent;
        }

        /** The frame, the objects, and the attributes' bytes once more. */
        long weight() {
            return (long) frame.length * (OBJECTS_PER_FRAME_BYTE + 1);
        }
    }

    private final Map<SessionId, Copy> copies = new LinkedHashMap<>(256, 0.75f, true);
    private final int maxCopies;
    private final long maxBytes;
    private long bytes;

    /** At most 10,000 copies, and an eighth of the heap (at most 256 MB) by their estimated weight. */
    NearCopies() {
        this(MAX_COPIES, Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 8));
    }

    NearCopies(int maxCopies, long maxBytes) {
        this.maxCopies = maxCopies;
        this.maxBytes = maxBytes;
    }

    /**
     * @return the kept copy, lent to the caller, when memcached's bytes are the ones it was made from
     *     and no other request of this Tomcat has it; else null (a copy of other bytes is dropped)
     */
    Copy lend(SessionId id, byte[] frame) {
        Copy c;
        synchronized (this) {
            c = copies.get(id);
        }
        if (c == null) {
            return null;
        }
        boolean same = Arrays.equals(c.frame, frame); // outside the lock: frames may be large
        synchronized (this) {
            if (copies.get(id) != c) {
                return null; // replaced meanwhile
            }
            if (!same) {
                remove(id);
                return null;
            }
            if (c.lent) {
                return null; // a request that is still running uses those objects: this one decodes its own
            }
            c.lent = true;
        }
        return c;
    }

    /**
     * @param lent true at a load (its request now uses the objects), false after a store (the request
     *     ended, nothing uses them)
     * @return the copy kept, or null when it is too large to keep
     */
    Copy keep(SessionId id, byte[] frame, SessionSnapshot snapshot, long fingerprint, EncodedBlocks blocks,
            boolean lent) {
        Copy copy = new Copy(frame, snapshot, fingerprint, blocks, lent);
        synchronized (this) {
            if (copy.weight() > maxBytes / 16) {
                remove(id); // one session must not push out a crowd of others
                return null;
            }
            Copy old = copies.put(id, copy);
            bytes += copy.weight() - (old == null ? 0 : old.weight());
            Iterator<Map.Entry<SessionId, Copy>> eldest = copies.entrySet().iterator();
            while ((copies.size() > maxCopies || bytes > maxBytes) && eldest.hasNext()) {
                bytes -= eldest.next().getValue().weight();
                eldest.remove();
            }
        }
        return copy;
    }

    /**
     * After a request that changed nothing: its copy, if still the one kept, takes the objects the
     * request ended with and is free again. Another request's copy kept meanwhile (a store of other
     * bytes) is left alone: these objects are not what it was made from.
     *
     * @param mine the copy the request took or made at its load, or null
     * @param storedFingerprint what the request found memcached holds, which it did not change
     * @param blocks what the request's encode kept of those objects
     */
    void unchanged(SessionId id, Copy mine, long storedFingerprint, SessionSnapshot ended, EncodedBlocks blocks) {
        if (mine == null || mine.fingerprint != storedFingerprint) {
            return;
        }
        SessionSnapshot s = mine.snapshot;
        synchronized (this) {
            if (copies.get(id) == mine) {
                copies.put(id, new Copy(mine.frame, new SessionSnapshot(id, s.creationTime(), s.lastAccessedTime(),
                        s.maxInactiveInterval(), s.authType(), ended.content()), mine.fingerprint, blocks, false));
            }
        }
    }

    /**
     * @return true when the encode that made {@code blocks} wrote or reused every attribute (and the
     *     login) of the snapshot: a copy of objects that one left out (not serializable, over a
     *     limit) would hand them to the next request here, while every other Tomcat goes without.
     *     The built-in transcoders report their counts; another transcoder's copy is kept as before.
     */
    static boolean holdsAll(EncodedBlocks blocks, SessionSnapshot snapshot) {
        return counts(blocks, snapshot, blocks.reused() + blocks.written());
    }

    /**
     * @return true when the encode left no attribute (nor the login) out: each is there, some maybe
     *     with the bytes of an older state, carried over while a parallel request changed it
     */
    static boolean leavesNoneOut(EncodedBlocks blocks, SessionSnapshot snapshot) {
        return counts(blocks, snapshot, blocks.reused() + blocks.written() + blocks.carried());
    }

    private static boolean counts(EncodedBlocks blocks, SessionSnapshot snapshot, int counted) {
        if (counted == 0 && blocks.kept() == null) {
            return true; // a transcoder that does not report what it wrote: kept as before
        }
        SessionContent content = snapshot.content();
        return counted == content.attributes().size() + (content.principal() == null ? 0 : 1);
    }

    synchronized void drop(SessionId id) {
        if (id != null) {
            remove(id);
        }
    }

    synchronized int size() {
        return copies.size();
    }

    private void remove(SessionId id) {
        Copy c = copies.remove(id);
        if (c != null) {
            bytes -= c.weight();
        }
    }
}

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
 * <p>Bounded by count and bytes, least recently used first out; held only while memory is copied,
 * never across a memcached round trip or a decode.
 */
final class NearCopies {
    static final int MAX_COPIES = 10_000;
    static final long MAX_BYTES = 64L << 20;

    /** One session as memcached holds it, decoded. */
    static final class Copy {
        final byte[] frame;
        final SessionSnapshot snapshot;
        final long fingerprint;
        /** Given to a request that has not ended: not given to another until it comes back. */
        boolean lent;

        Copy(byte[] frame, SessionSnapshot snapshot, long fingerprint, boolean lent) {
            this.frame = frame;
            this.snapshot = snapshot;
            this.fingerprint = fingerprint;
            this.lent = lent;
        }
    }

    private final Map<SessionId, Copy> copies = new LinkedHashMap<>(256, 0.75f, true);
    private final int maxCopies;
    private final long maxBytes;
    private long bytes;

    NearCopies() {
        this(MAX_COPIES, MAX_BYTES);
    }

    NearCopies(int maxCopies, long maxBytes) {
        this.maxCopies = maxCopies;
        this.maxBytes = maxBytes;
    }

    /**
     * @return the kept copy, lent to the caller, when memcached's bytes are the ones it was made from
     *     and no other request of this Tomcat has it; else null (a copy of other bytes is dropped)
     */
    synchronized Copy lend(SessionId id, byte[] frame) {
        Copy c = copies.get(id);
        if (c == null) {
            return null;
        }
        if (!Arrays.equals(c.frame, frame)) {
            remove(id);
            return null;
        }
        if (c.lent) {
            return null; // a request that is still running uses those objects: this one decodes its own
        }
        c.lent = true;
        return c;
    }

    /** @param lent true when a request now uses the snapshot's objects (a load), false after its end (a store) */
    synchronized void keep(SessionId id, byte[] frame, SessionSnapshot snapshot, long fingerprint, boolean lent) {
        if (frame.length > maxBytes / 16) {
            remove(id); // one session must not push out a crowd of others
            return;
        }
        Copy old = copies.put(id, new Copy(frame, snapshot, fingerprint, lent));
        bytes += frame.length - (old == null ? 0 : old.frame.length);
        Iterator<Map.Entry<SessionId, Copy>> eldest = copies.entrySet().iterator();
        while ((copies.size() > maxCopies || bytes > maxBytes) && eldest.hasNext()) {
            bytes -= eldest.next().getValue().frame.length;
            eldest.remove();
        }
    }

    /** After a request that changed nothing: the same bytes, the objects the request ended with. */
    synchronized void unchanged(SessionId id, SessionSnapshot snapshot) {
        Copy c = copies.get(id);
        if (c != null) {
            copies.put(id, new Copy(c.frame, snapshot, c.fingerprint, false));
        }
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
            bytes -= c.frame.length;
        }
    }
}

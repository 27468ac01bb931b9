package io.msm.core;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sticky mode with {@code sessionBackupAsync="false"}: which sessions keep their attributes' bytes
 * ({@link SessionState#blocks}) between requests. Keeping them spares the encode of what did not
 * change, but costs about the session's serialized size again in heap; so only the sessions used
 * most recently keep them, bounded by count and weight like {@link NearCopies}. A session pushed
 * out encodes in full at its next request, then keeps its bytes again.
 */
final class KeptBlocks {
    static final int MAX_SESSIONS = 10_000;
    /** The bytes themselves and the shadows kept to compare with: what is counted per payload byte. */
    static final int WEIGHT_PER_PAYLOAD_BYTE = 2;

    /** Access-ordered: the eldest is the session used least recently. */
    private final Map<SessionState, Integer> kept = new LinkedHashMap<>(256, 0.75f, true);
    private final int maxSessions;
    private final long maxWeight;
    private long weight;

    /** At most 10,000 sessions, and a sixteenth of the heap (at most 128 MB) by their estimated weight. */
    KeptBlocks() {
        this(MAX_SESSIONS, Math.min(128L << 20, Runtime.getRuntime().maxMemory() / 16));
    }

    KeptBlocks(int maxSessions, long maxWeight) {
        this.maxSessions = maxSessions;
        this.maxWeight = maxWeight;
    }

    /**
     * The session was just encoded with its kept bytes, {@code payloadBytes} long in all. Sessions
     * used least recently drop theirs until the bound holds, this one last.
     */
    synchronized void used(SessionState state, int payloadBytes) {
        if (state.removed) {
            return; // ended while this encode ran: forget() ran or runs after, and must not be undone
        }
        int w = (int) Math.min(Integer.MAX_VALUE, (long) payloadBytes * WEIGHT_PER_PAYLOAD_BYTE);
        Integer old = kept.put(state, w);
        weight += w - (old == null ? 0 : old);
        Iterator<Map.Entry<SessionState, Integer>> eldest = kept.entrySet().iterator();
        while ((kept.size() > maxSessions || weight > maxWeight) && eldest.hasNext()) {
            Map.Entry<SessionState, Integer> e = eldest.next();
            weight -= e.getValue();
            e.getKey().blocks = null; // its encoder read the field once: one in progress finishes as it is
            eldest.remove();
        }
    }

    /** The session ended: its bytes go with it. */
    synchronized void forget(SessionState state) {
        Integer w = kept.remove(state);
        if (w != null) {
            weight -= w;
        }
        state.blocks = null;
    }

    synchronized int size() {
        return kept.size();
    }
}

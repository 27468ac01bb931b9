package io.msm.core;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sticky mode: which sessions keep their attributes' bytes ({@link SessionState#blocks}) between
 * requests. Keeping them spares the encode of what did not change, but costs about the session's
 * serialized size again in heap; so only the sessions used most recently keep them, bounded by
 * count and weight like {@link NearCopies}, and only while they are busy. A session that loses
 * them encodes in full at its next backup.
 */
final class KeptBlocks {
    static final int MAX_SESSIONS = 10_000;
    /** The bytes themselves and the shadows kept to compare with: what is counted per payload byte. */
    static final int WEIGHT_PER_PAYLOAD_BYTE = 2;

    /** Access-ordered: the eldest is the session used least recently. */
    private final Map<SessionState, Use> kept = new LinkedHashMap<>(256, 0.75f, true);
    private final int maxSessions;
    private final long maxWeight;
    private final long maxIdleMillis;
    private long weight;

    private static final class Use {
        final int weight;
        final long atMillis;

        Use(int weight, long atMillis) {
            this.weight = weight;
            this.atMillis = atMillis;
        }
    }

    /**
     * At most 10,000 sessions, and a sixteenth of the heap (at most 128 MB) by their estimated weight.
     *
     * @param maxIdleMillis a session not encoded for this long gives its bytes up at the next use of
     *     any other, or at {@link #dropIdle}; {@link Long#MAX_VALUE}: only the bounds take them
     */
    KeptBlocks(long maxIdleMillis) {
        this(MAX_SESSIONS, Math.min(128L << 20, Runtime.getRuntime().maxMemory() / 16), maxIdleMillis);
    }

    KeptBlocks(int maxSessions, long maxWeight, long maxIdleMillis) {
        this.maxSessions = maxSessions;
        this.maxWeight = maxWeight;
        this.maxIdleMillis = maxIdleMillis;
    }

    /**
     * The session was just encoded with its kept bytes, {@code payloadBytes} long in all. Sessions
     * used least recently drop theirs until the bounds hold, this one last; so do those idle for
     * longer than the limit.
     */
    synchronized void used(SessionState state, EncodedBlocks blocks, int payloadBytes, long nowMillis) {
        if (state.removed || state.blocks != blocks) {
            // Ended while this encode ran (forget() ran or runs after, and must not be undone), or
            // pushed out meanwhile: registering it would count bytes nobody keeps.
            return;
        }
        if (blocks.kept() == null) {
            forget(state); // nothing kept (a session too large to keep a second copy of): no weight to count
            return;
        }
        int w = (int) Math.min(Integer.MAX_VALUE, (long) payloadBytes * WEIGHT_PER_PAYLOAD_BYTE);
        Use old = kept.put(state, new Use(w, nowMillis));
        weight += w - (old == null ? 0 : old.weight);
        dropEldest(nowMillis);
    }

    /** Drops the bytes of sessions idle past the limit, also while no session is busy to do it. */
    synchronized void dropIdle(long nowMillis) {
        dropEldest(nowMillis);
    }

    private void dropEldest(long nowMillis) {
        Iterator<Map.Entry<SessionState, Use>> eldest = kept.entrySet().iterator();
        while (eldest.hasNext()) {
            Map.Entry<SessionState, Use> e = eldest.next();
            boolean idle = nowMillis - e.getValue().atMillis > maxIdleMillis;
            if (!idle && kept.size() <= maxSessions && weight <= maxWeight) {
                break;
            }
            weight -= e.getValue().weight;
            e.getKey().blocks = null; // its encoder read the field once: one in progress finishes as it is
            eldest.remove();
        }
    }

    /** The session ended: its bytes go with it. */
    synchronized void forget(SessionState state) {
        Use use = kept.remove(state);
        if (use != null) {
            weight -= use.weight;
        }
        state.blocks = null;
    }

    synchronized int size() {
        return kept.size();
    }
}

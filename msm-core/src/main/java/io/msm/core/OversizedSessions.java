package io.msm.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;

/**
 * A session larger than any Tomcat could read back (the transcoder's {@code maxbytes}) or than msm
 * stores ({@link PartedStore#MAX_PARTS} parts) is not written: it stays where it is (sticky: in
 * this Tomcat's memory), its node stays up, and the log says once per session (non-sticky: at most
 * once a minute) how large it is and which attributes make it so, for the webapp's authors.
 */
final class OversizedSessions {
    private static final Logger LOG = Logs.get(OversizedSessions.class);
    static final long MAX_FRAME = (long) PartedStore.MAX_PARTS * PartedStore.PART_SIZE;

    private final SessionCodec codec;
    private final Statistics statistics;
    /** Non-sticky: each request's copy is new, and so is its state's flag; null in sticky mode. */
    private final OncePerMinute logLimit;

    /**
     * @param logLimit for non-sticky mode, whose requests each hold a new state: the line at most
     *     once a minute; null where a session keeps its state (sticky)
     */
    OversizedSessions(SessionCodec codec, Statistics statistics, OncePerMinute logLimit) {
        this.codec = codec;
        this.statistics = statistics;
        this.logLimit = logLimit;
    }

    /**
     * @return true when the frame is too large to store; counted, and logged once per session
     * @param where what happens to the session instead, for the log line
     */
    boolean refuse(SessionSnapshot snapshot, byte[] payload, byte[] frame, SessionState state, String where) {
        if (payload.length <= codec.maxContentBytes() && frame.length <= MAX_FRAME) {
            state.oversizeLogged = false;
            state.tooLarge = false;
            return false;
        }
        statistics.increment(Statistics.Counter.SESSIONS_TOO_LARGE);
        state.tooLarge = true;
        // Non-sticky: at every request that stores the session otherwise, each line encoding every
        // attribute alone to name the largest.
        if (!state.oversizeLogged && (logLimit == null || logLimit.allow("oversized"))) {
            state.oversizeLogged = true;
            LOG.warn("session {} is {} bytes, more than the {} bytes a Tomcat reads back (serialFilter maxbytes) or"
                    + " msm stores ({} bytes); {}. Its largest attributes: {}", snapshot.id().masked(), frame.length,
                    codec.maxContentBytes(), MAX_FRAME, where, largest(snapshot.content(), 3));
        }
        return true;
    }

    /** Encodes each attribute alone: costly, and done only for the one log line of a session. */
    private String largest(SessionContent content, int n) {
        List<Map.Entry<String, Integer>> sizes = new ArrayList<>();
        for (Map.Entry<String, Object> e : content.attributes().entrySet()) {
            int size = codec.encode(new SessionContent(Collections.singletonMap(e.getKey(), e.getValue()), null)).length;
            sizes.add(new java.util.AbstractMap.SimpleEntry<>(e.getKey(), size));
        }
        sizes.sort((a, b) -> Integer.compare(b.getValue(), a.getValue()));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(n, sizes.size()); i++) {
            sb.append(i == 0 ? "" : ", ").append(sizes.get(i).getKey()).append(" (").append(sizes.get(i).getValue())
                    .append(" bytes)");
        }
        return sb.toString();
    }
}

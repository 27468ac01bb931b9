package io.msm.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots to stored frames and back: the transcoder that writes new frames, every transcoder
 * that may read old ones, and the fingerprint that tells whether memcached holds a session already.
 * Bytes that do not decode are logged, counted, and become a missing session.
 */
final class SessionCodec {
    private static final Logger LOG = LoggerFactory.getLogger(SessionCodec.class);

    private final Transcoder writer;
    private final Map<Integer, Transcoder> readers = new HashMap<>();
    private final Statistics statistics;
    private final Expiry expiry;

    /** @param readers further transcoders, for frames written by an earlier configuration */
    SessionCodec(Transcoder writer, List<Transcoder> readers, Statistics statistics, Expiry expiry) {
        this.writer = writer;
        this.readers.put(writer.id(), writer);
        for (Transcoder reader : readers) {
            this.readers.putIfAbsent(reader.id(), reader);
        }
        this.statistics = statistics;
        this.expiry = expiry;
    }

    byte[] encode(SessionContent content) {
        return writer.encode(content);
    }

    /** @return the largest encoded content the transcoders read back ({@code serialFilter}'s maxbytes) */
    int maxContentBytes() {
        return writer.maxContentBytes();
    }

    static long fingerprint(byte[] payload, SessionSnapshot s) {
        return Fingerprint.of(payload, s.creationTime(), s.maxInactiveInterval(), s.authType());
    }

    byte[] frame(SessionSnapshot s, byte[] payload) {
        return new SessionFrame(writer.id(), s.creationTime(), s.lastAccessedTime(), s.maxInactiveInterval(),
                s.authType(), payload).encode();
    }

    /** Encodes the whole snapshot into a frame. */
    byte[] frame(SessionSnapshot s) {
        return frame(s, encode(s.content()));
    }

    /**
     * @param state receives what memcached holds, so an unchanged session is not written back
     * @return null when the bytes do not decode
     */
    SessionSnapshot decode(SessionId id, String node, byte[] bytes, SessionState state) {
        try {
            SessionFrame frame = SessionFrame.decode(bytes);
            Transcoder transcoder = readers.get(frame.transcoderId);
            if (transcoder == null) {
                throw new FrameException("written with transcoder id " + frame.transcoderId
                        + ", which this Tomcat is not configured with");
            }
            SessionContent content = transcoder.decode(frame.payload);
            state.loaded(id, Fingerprint.of(frame.payload, frame.creationTime, frame.maxInactiveInterval,
                    frame.authType), expiry.now());
            return new SessionSnapshot(id, frame.creationTime, frame.lastAccessedTime, frame.maxInactiveInterval,
                    frame.authType, content);
        } catch (FrameException | TranscoderException e) {
            statistics.increment(Statistics.Counter.UNDECODABLE_SESSIONS);
            LOG.warn("session {} on memcached node {} does not decode and is treated as missing: {}",
                    id.masked(), node, e.getMessage());
            return null;
        }
    }
}

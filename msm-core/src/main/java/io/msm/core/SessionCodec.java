package io.msm.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;

/**
 * Snapshots to stored frames and back: the transcoder that writes new frames, every transcoder
 * that may read old ones, and the fingerprint that tells whether memcached holds a session already.
 * Bytes that do not decode are logged, counted, and become a missing session.
 */
final class SessionCodec {
    private static final Logger LOG = Logs.get(SessionCodec.class);

    private final Transcoder writer;
    private final Map<Integer, Transcoder> readers = new HashMap<>();
    private final Statistics statistics;
    private final Expiry expiry;
    private final SessionNames names;
    /** Null without encryption. */
    private final FrameCipher cipher;
    private final boolean readClear;
    private final OncePerMinute logLimit;

    /**
     * @param readers further transcoders, for frames written by an earlier configuration; a frame of
     *     any other transcoder is refused unread
     * @param cipher seals every frame written and opens every frame read; null: frames are in clear
     * @param readClear with a cipher, still read frames in clear (while migrating to encryption)
     * @param logLimit a Tomcat with the wrong key or transcoder refuses every session it reads: one line a
     *     minute per node says so, the counters count each
     */
    SessionCodec(Transcoder writer, List<Transcoder> readers, Statistics statistics, Expiry expiry,
            SessionNames names, FrameCipher cipher, boolean readClear, OncePerMinute logLimit) {
        this.writer = writer;
        this.readers.put(writer.id(), writer);
        for (Transcoder reader : readers) {
            this.readers.putIfAbsent(reader.id(), reader);
        }
        this.statistics = statistics;
        this.expiry = expiry;
        this.names = names;
        this.cipher = cipher;
        this.readClear = readClear;
        this.logLimit = logLimit;
    }

    byte[] encode(SessionContent content) {
        return writer.encode(content);
    }

    /** @param blocks what the last encode or load of this session kept, reused where nothing changed; null: none */
    byte[] encode(SessionContent content, EncodedBlocks blocks) {
        if (blocks == null) {
            return writer.encode(content);
        }
        byte[] payload = writer.encode(content, blocks);
        statistics.add(Statistics.Counter.ATTRIBUTES_REUSED, blocks.reused());
        statistics.add(Statistics.Counter.ATTRIBUTES_ENCODED, blocks.written());
        return payload;
    }

    /** @return the largest encoded content the transcoders read back ({@code serialFilter}'s maxbytes) */
    int maxContentBytes() {
        return writer.maxContentBytes();
    }

    static long fingerprint(byte[] payload, SessionSnapshot s) {
        return Fingerprint.of(payload, s.creationTime(), s.maxInactiveInterval(), s.authType());
    }

    byte[] frame(SessionSnapshot s, byte[] payload) {
        byte[] frame = new SessionFrame(writer.id(), s.creationTime(), s.lastAccessedTime(), s.maxInactiveInterval(),
                s.authType(), payload).encode();
        return cipher == null ? frame : cipher.seal(frame, names.owner(s.id()));
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
        return decode(id, node, bytes, state, false, null);
    }

    /**
     * {@link #decode} of bytes read under the session's name from before encryption was switched on:
     * the one place where a frame in clear may be read (with {@code readUnencryptedSessions}). Under
     * the encrypted names msm never writes one, so a clear frame there was planted.
     */
    SessionSnapshot decodeClearNamed(SessionId id, String node, byte[] bytes, SessionState state) {
        return decode(id, node, bytes, state, readClear, null);
    }

    /**
     * {@link #decode} of a frame this JVM kept over a reload: it never left the JVM, so it is read clear
     * or sealed, and by any of {@code shipped} when the reload changed the transcoder.
     */
    SessionSnapshot decodeKept(SessionId id, String node, byte[] bytes, SessionState state, List<Transcoder> shipped) {
        return decode(id, node, bytes, state, true, shipped);
    }

    /** @param alsoReadBy further transcoders for frames that were never out of this JVM; null: none */
    private SessionSnapshot decode(SessionId id, String node, byte[] bytes, SessionState state, boolean clearAccepted,
            List<Transcoder> alsoReadBy) {
        byte[] clear = open(id, node, bytes, clearAccepted);
        if (clear == null) {
            return null;
        }
        try {
            SessionFrame frame = SessionFrame.decode(clear);
            Transcoder transcoder = readers.get(frame.transcoderId);
            for (int i = 0; transcoder == null && alsoReadBy != null && i < alsoReadBy.size(); i++) {
                transcoder = alsoReadBy.get(i).id() == frame.transcoderId ? alsoReadBy.get(i) : null;
            }
            if (transcoder == null) {
                throw new FrameException("written with transcoder id " + frame.transcoderId + " ("
                        + shippedFactory(frame.transcoderId) + "), which this Tomcat does not read; while a cluster"
                        + " switches " + Settings.TRANSCODER_FACTORY_CLASS + ", name the factory that wrote it in "
                        + Settings.READ_TRANSCODER_FACTORY_CLASSES + " on every Tomcat");
            }
            EncodedBlocks blocks = state.blocks;
            SessionContent content = blocks == null ? transcoder.decode(frame.payload)
                    : transcoder.decode(frame.payload, blocks);
            // A clear frame read while migrating to encryption is not what memcached should hold: the
            // next store writes the session in full, sealed, even when nothing changed.
            boolean clearUnderEncryption = cipher != null && clear == bytes;
            if (!clearUnderEncryption) {
                // Sealed under a key that is no longer the first: the next store writes it again under the
                // current one, changed or not. Else a session used without changes keeps the old key for
                // as long as it is used, and its user is logged out when a rotation removes that key.
                boolean olderKey = cipher != null && !cipher.isUnderCurrentKey(bytes);
                state.loaded(id, olderKey ? 0 : Fingerprint.of(frame.payload, frame.creationTime,
                        frame.maxInactiveInterval, frame.authType), expiry.now());
            }
            return new SessionSnapshot(id, frame.creationTime, frame.lastAccessedTime, frame.maxInactiveInterval,
                    frame.authType, content);
        } catch (FrameException | TranscoderException e) {
            undecodable(id, node, e.getMessage());
            return null;
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            // A transcoder's own failure, or a class that cannot be linked here (its superclass's jar gone):
            // bytes that do not decode, never a 500 for the user.
            undecodable(id, node, Logs.oneLine(e.toString(), 300)); // class names from the bytes may be in it
            return null;
        }
    }

    /** Core knows the serializers module by name only: the factories whose frames carry these ids. */
    private static String shippedFactory(int transcoderId) {
        switch (transcoderId) {
            case 1:
                return "msm's " + Settings.DEFAULT_TRANSCODER_FACTORY;
            case 2:
                return "msm's " + Settings.KRYO_TRANSCODER_FACTORY;
            default:
                return "not one of msm's, which are 1 and 2";
        }
    }

    /**
     * @return true when the frame opens and parses but names a transcoder this Tomcat does not read:
     *     a session of another configuration, not garbage (nothing is logged or counted)
     */
    boolean isForeign(SessionId id, String node, byte[] bytes) {
        byte[] clear = cipher == null ? bytes : FrameCipher.isSealed(bytes) ? openQuietly(id, bytes) : null;
        if (clear == null) {
            return false;
        }
        try {
            return !readers.containsKey(SessionFrame.decode(clear).transcoderId);
        } catch (FrameException e) {
            return false;
        }
    }

    private byte[] openQuietly(SessionId id, byte[] sealed) {
        try {
            return cipher.open(sealed, names.owner(id));
        } catch (FrameCipher.NotAuthenticException e) {
            return null;
        }
    }

    /**
     * @return when the session of this frame expires by its own last access, from the frame's header:
     *     none of its attributes is decoded (the frame is still read, opened and checked whole); null when
     *     the frame does not open or parse (logged, counted), or names a transcoder this Tomcat does not
     *     read ({@link #isForeign}: not logged, since it is no garbage)
     */
    Long expiresAtByFrame(SessionId id, String node, byte[] bytes) {
        SessionFrame frame = header(id, node, bytes, false);
        return frame != null && readers.containsKey(frame.transcoderId)
                ? ValidityRecord.expiresAt(frame.lastAccessedTime, frame.maxInactiveInterval) : null;
    }

    /**
     * @return the frame's times and timeout (its attributes not decoded), or null when it does not open
     *     or parse (logged, counted)
     */
    SessionFrame header(SessionId id, String node, byte[] bytes, boolean clearNamed) {
        byte[] clear = open(id, node, bytes, clearNamed && readClear);
        if (clear == null) {
            return null;
        }
        try {
            return SessionFrame.decode(clear);
        } catch (FrameException e) {
            undecodable(id, node, e.getMessage());
            return null;
        }
    }

    private void undecodable(SessionId id, String node, String why) {
        statistics.increment(Statistics.Counter.UNDECODABLE_SESSIONS);
        if (logLimit.allow("undecodable " + node)) {
            LOG.warn("session {} on memcached node {} does not decode and is treated as missing: {}; UNDECODABLE_SESSIONS"
                    + " counts each such session ({} so far); this line repeats at most once a minute per node",
                    id.masked(), node, why, statistics.get(Statistics.Counter.UNDECODABLE_SESSIONS));
        }
    }

    /**
     * @return the clear frame, or null when it must not be read: it fails authentication, or it is
     *     in clear while encryption is on (anyone who can write memcached could have planted it)
     */
    private byte[] open(SessionId id, String node, byte[] bytes, boolean clearAccepted) {
        boolean sealed = FrameCipher.isSealed(bytes);
        if (cipher == null || (!sealed && clearAccepted) || SessionFrame.isOtherVersion(bytes)) {
            // A sealed frame without keys fails as not understood, in decode; so does one of another release,
            // whose envelope this Tomcat cannot tell from a forged one.
            return bytes;
        }
        String problem;
        if (sealed) {
            try {
                return cipher.open(bytes, names.owner(id));
            } catch (FrameCipher.NotAuthenticException e) {
                problem = e.getMessage();
            }
        } else if (readClear) {
            problem = "it is not encrypted, under the encrypted session's name, where msm writes no clear frame"
                    + " (readUnencryptedSessions reads clear frames under their names from before encryption only)";
        } else {
            problem = "it is not encrypted, and encryption is on (readUnencryptedSessions=\"true\" reads such"
                    + " sessions while migrating)";
        }
        statistics.increment(Statistics.Counter.UNAUTHENTIC_SESSIONS);
        if (logLimit.allow("unauthentic " + node)) {
            LOG.warn("session {} on memcached node {} is refused and treated as missing: {}; UNAUTHENTIC_SESSIONS counts"
                    + " each such session ({} so far); this line repeats at most once a minute per node", id.masked(),
                    node, problem, statistics.get(Statistics.Counter.UNAUTHENTIC_SESSIONS));
        }
        return null;
    }
}

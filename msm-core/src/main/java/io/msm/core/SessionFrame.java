package io.msm.core;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * The bytes stored in memcached for one session: a small header readable without touching the
 * attributes, then the transcoded content.
 *
 * <pre>
 * magic 'm' 's' | version 1 | flags 1 | transcoder id 1 | creation time 8 | last access 8 |
 * max inactive seconds 4 | auth type length 2 (0xFFFF = none) + UTF-8 | payload length 4 |
 * payload CRC-32 4 | payload
 * </pre>
 *
 * The magic, version, flags and checksum are checked before any payload byte reaches a
 * transcoder, so garbage or a frame of a newer msm is a clear error, never a deserialization.
 */
final class SessionFrame {
    static final int VERSION = 1;
    private static final byte MAGIC_0 = 'm';
    private static final byte MAGIC_1 = 's';
    /** Flag bits of a clear frame; {@link FrameCipher#ENCRYPTED} marks a frame sealed around one. */
    private static final int KNOWN_FLAGS = 0;
    private static final int NO_AUTH_TYPE = 0xFFFF;
    /** Magic, version, flags, transcoder id, two times, max inactive, auth length, payload length and CRC. */
    private static final int HEADER_BYTES = 2 + 1 + 1 + 1 + 8 + 8 + 4 + 2 + 4 + 4;

    final int transcoderId;
    final long creationTime;
    final long lastAccessedTime;
    final int maxInactiveInterval;
    final String authType;
    final byte[] payload;
    final long payloadCrc;

    SessionFrame(int transcoderId, long creationTime, long lastAccessedTime, int maxInactiveInterval,
            String authType, byte[] payload) {
        this(transcoderId, creationTime, lastAccessedTime, maxInactiveInterval, authType, payload, crc(payload));
    }

    private SessionFrame(int transcoderId, long creationTime, long lastAccessedTime, int maxInactiveInterval,
            String authType, byte[] payload, long payloadCrc) {
        this.transcoderId = transcoderId;
        this.creationTime = creationTime;
        this.lastAccessedTime = lastAccessedTime;
        this.maxInactiveInterval = maxInactiveInterval;
        this.authType = authType;
        this.payload = payload;
        this.payloadCrc = payloadCrc;
    }

    byte[] encode() {
        byte[] auth = authType == null ? null : authType.getBytes(StandardCharsets.UTF_8);
        // One array of the exact size: the frame is built on every store.
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + (auth == null ? 0 : auth.length) + payload.length);
        out.put(MAGIC_0).put(MAGIC_1).put((byte) VERSION).put((byte) 0).put((byte) transcoderId);
        out.putLong(creationTime).putLong(lastAccessedTime).putInt(maxInactiveInterval);
        if (auth == null) {
            out.putShort((short) NO_AUTH_TYPE);
        } else {
            out.putShort((short) auth.length).put(auth);
        }
        out.putInt(payload.length).putInt((int) payloadCrc).put(payload);
        return out.array();
    }

    /**
     * @return true for a frame, clear or sealed, of another msm release's format: its version is named
     *     when it does not decode, and it is left as it is, never overwritten or deleted as garbage
     */
    static boolean isOtherVersion(byte[] data) {
        return data != null && data.length > 2 && data[0] == MAGIC_0 && data[1] == MAGIC_1
                && (data[2] & 0xFF) != VERSION;
    }

    static SessionFrame decode(byte[] data) throws FrameException {
        ByteBuffer in = ByteBuffer.wrap(data);
        try {
            if (data.length < 3 || in.get() != MAGIC_0 || in.get() != MAGIC_1) {
                throw new FrameException("not an msm session frame (" + data.length + " bytes starting "
                        + hex(data) + ")");
            }
            int version = in.get() & 0xFF;
            if (version != VERSION) {
                throw new FrameException("frame version " + version + " is not understood by this msm (it reads version "
                        + VERSION + "); was it written by another msm release?");
            }
            int flags = in.get() & 0xFF;
            if ((flags & FrameCipher.ENCRYPTED) != 0) {
                throw new FrameException("the session is encrypted, and this Tomcat has no encryptionKeys");
            }
            if ((flags & ~KNOWN_FLAGS) != 0) {
                throw new FrameException("frame flags 0x" + Integer.toHexString(flags) + " are not understood");
            }
            int transcoderId = in.get() & 0xFF;
            long creation = in.getLong();
            long lastAccess = in.getLong();
            int maxInactive = in.getInt();
            int authLength = in.getShort() & 0xFFFF;
            String authType = null;
            if (authLength != NO_AUTH_TYPE) {
                byte[] auth = new byte[authLength];
                in.get(auth);
                authType = new String(auth, StandardCharsets.UTF_8);
            }
            int payloadLength = in.getInt();
            long expectedCrc = in.getInt() & 0xFFFFFFFFL;
            if (payloadLength != in.remaining()) {
                throw new FrameException("payload length " + payloadLength + " does not match the " + in.remaining()
                        + " bytes present");
            }
            byte[] payload = new byte[payloadLength];
            in.get(payload);
            long crc = crc(payload);
            if (crc != expectedCrc) {
                throw new FrameException("payload checksum does not match (corrupted or truncated frame)");
            }
            return new SessionFrame(transcoderId, creation, lastAccess, maxInactive, authType, payload, crc);
        } catch (BufferUnderflowException e) {
            throw new FrameException("frame truncated after " + data.length + " bytes");
        }
    }

    private static long crc(byte[] payload) {
        CRC32 crc = new CRC32();
        crc.update(payload, 0, payload.length);
        return crc.getValue();
    }

    private static String hex(byte[] data) {
        StringBuilder sb = new StringBuilder("0x");
        for (int i = 0; i < Math.min(8, data.length); i++) {
            sb.append(String.format("%02x", data[i] & 0xFF));
        }
        return sb.toString();
    }
}

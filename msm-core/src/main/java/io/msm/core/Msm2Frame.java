package io.msm.core;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The bytes memcached-session-manager 2.3.2 stores for a session, its version 2 (version 1, without
 * the FORM login notes, is read too). All numbers big-endian:
 *
 * <pre>
 * version 2 | header length 2 | creation time 8 | last access 8 | max inactive seconds 4 |
 * is new 1 ('1'/'0') | is valid 1 | this access 8 | last backup 8 | id length 2 + UTF-8 id |
 * auth type 2 (0 none, 1 BASIC, 2 CLIENT_CERT, 3 DIGEST, 4 FORM) | principal length 2 + bytes |
 * (version 2) saved request length 2 + bytes | saved principal length 2 + bytes | attributes to the end
 * </pre>
 *
 * The principal is a Java serialization stream of its own; the attributes are one stream of a count
 * and name/value pairs ({@link Msm2Serialization}). The FORM login notes are skipped when read and
 * written empty: a login in progress starts again, a finished one is kept.
 */
final class Msm2Frame {
    static final String[] AUTH_TYPES = {null, "BASIC", "CLIENT_CERT", "DIGEST", "FORM"};
    /** Version, header length, times, flags, id length, auth type and principal length: the least a header holds. */
    private static final int FIXED_BYTES = 2 + 2 + 8 + 8 + 4 + 1 + 1 + 8 + 8 + 2 + 2 + 2;

    final long creationTime;
    final long lastAccessedTime;
    final int maxInactiveInterval;
    final boolean valid;
    final long thisAccessedTime;
    final String id;
    final String authType;
    final byte[] principal;
    final byte[] attributes;

    Msm2Frame(long creationTime, long lastAccessedTime, int maxInactiveInterval, boolean valid, long thisAccessedTime,
            String id, String authType, byte[] principal, byte[] attributes) {
        this.creationTime = creationTime;
        this.lastAccessedTime = lastAccessedTime;
        this.maxInactiveInterval = maxInactiveInterval;
        this.valid = valid;
        this.thisAccessedTime = thisAccessedTime;
        this.id = id;
        this.authType = authType;
        this.principal = principal;
        this.attributes = attributes;
    }

    /** @return true when the bytes start as 2.3.2's do; msm's own frames start with 'm' 's' */
    static boolean looksLike(byte[] data) {
        return data != null && data.length >= FIXED_BYTES && data[0] == 0 && (data[1] == 1 || data[1] == 2);
    }

    /** @return the auth type's number in the frame, or -1 for one 2.3.2 cannot store (such as SPNEGO) */
    static int authTypeNumber(String authType) {
        for (int i = 0; i < AUTH_TYPES.length; i++) {
            if (authType == null ? AUTH_TYPES[i] == null : authType.equals(AUTH_TYPES[i])) {
                return i;
            }
        }
        return -1;
    }

    /** @param lastBackupTime 2.3.2 keeps when it last stored the session; only informative */
    byte[] encode(long lastBackupTime) {
        byte[] idBytes = id.getBytes(StandardCharsets.UTF_8);
        int headerLength = FIXED_BYTES + idBytes.length + principal.length + 2 + 2;
        int auth = authTypeNumber(authType);
        if (auth < 0 || headerLength > Short.MAX_VALUE || idBytes.length > Short.MAX_VALUE) {
            throw new IllegalArgumentException(auth < 0 ? "auth type " + authType + " has no number in 2.3.2's format"
                    : "header of " + headerLength + " bytes is longer than 2.3.2 reads");
        }
        ByteBuffer out = ByteBuffer.allocate(headerLength + attributes.length);
        out.putShort((short) 2).putShort((short) headerLength).putLong(creationTime).putLong(lastAccessedTime)
                .putInt(maxInactiveInterval).put((byte) '0').put((byte) (valid ? '1' : '0')).putLong(thisAccessedTime)
                .putLong(lastBackupTime).putShort((short) idBytes.length).put(idBytes).putShort((short) auth)
                .putShort((short) principal.length).put(principal)
                .putShort((short) 0).putShort((short) 0) // no FORM login notes
                .put(attributes);
        return out.array();
    }

    /** @throws FrameException when the bytes are not a 2.3.2 session of version 1 or 2 */
    static Msm2Frame decode(byte[] data) throws FrameException {
        if (!looksLike(data)) {
            throw new FrameException("not a memcached-session-manager 2.3.2 session (" + (data == null ? 0 : data.length)
                    + " bytes)");
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(data);
            int version = in.getShort();
            int headerLength = in.getShort() & 0xFFFF;
            if (headerLength < FIXED_BYTES || headerLength > data.length) {
                throw new FrameException("header length " + headerLength + " does not fit " + data.length + " bytes");
            }
            long creation = in.getLong();
            long lastAccess = in.getLong();
            int maxInactive = in.getInt();
            in.get(); // is new: a loaded session is not new
            boolean valid = in.get() == '1';
            long thisAccess = in.getLong();
            in.getLong(); // last backup
            String id = new String(bytes(in, headerLength), StandardCharsets.UTF_8);
            int auth = in.getShort() & 0xFFFF;
            if (auth >= AUTH_TYPES.length) {
                throw new FrameException("auth type " + auth + " is unknown");
            }
            byte[] principal = bytes(in, headerLength);
            if (version == 2) {
                bytes(in, headerLength); // saved request of a FORM login in progress
                bytes(in, headerLength); // its principal
            }
            if (in.position() > headerLength) {
                throw new FrameException("header longer than its length " + headerLength);
            }
            byte[] attributes = new byte[data.length - headerLength];
            System.arraycopy(data, headerLength, attributes, 0, attributes.length);
            return new Msm2Frame(creation, lastAccess, maxInactive, valid, thisAccess, id, AUTH_TYPES[auth], principal,
                    attributes);
        } catch (BufferUnderflowException e) {
            throw new FrameException("truncated memcached-session-manager 2.3.2 session (" + data.length + " bytes)");
        }
    }

    /** A length-prefixed field, checked to end within the header. */
    private static byte[] bytes(ByteBuffer in, int headerLength) throws FrameException {
        int length = in.getShort() & 0xFFFF;
        if (in.position() + length > headerLength) {
            throw new FrameException("a field of " + length + " bytes runs past the header");
        }
        byte[] b = new byte[length];
        in.get(b);
        return b;
    }
}

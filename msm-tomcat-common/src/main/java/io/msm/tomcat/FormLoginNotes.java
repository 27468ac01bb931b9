package io.msm.tomcat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A FORM login under way, as Tomcat's authenticator keeps it in two session notes: the request the
 * user made before the login page (replayed after the login) and the id the login must arrive with.
 * Notes live in one Tomcat's memory; msm stores these two with the session, as an attribute no
 * webapp sees, so that the login page, the login and the replay may each reach another Tomcat.
 * The notes with the user's name and password (an authenticator with {@code cache="false"}) are
 * never stored.
 */
final class FormLoginNotes {
    static final String REQUEST_NOTE = "org.apache.catalina.authenticator.REQUEST";
    static final String SESSION_ID_NOTE = "org.apache.catalina.authenticator.SESSION_ID";
    /** The stored attribute that carries them; taken out of the attributes again at every load. */
    static final String ATTRIBUTE = "io.msm.tomcat.formLogin";
    private static final byte VERSION = 1;
    /**
     * The most a login under way may add to its session: a body above Tomcat's default
     * {@code maxSavePostSize} (4 KB) many times over. A larger one stays in memory: a raised
     * {@code maxSavePostSize} would otherwise grow every login page's session in memcached with it,
     * up to {@code serialFilter}'s limits, past which the attribute, or the session, is left out.
     */
    static final int MAX_BYTES = 64 * 1024;

    private FormLoginNotes() {
    }

    static boolean isCarried(String note) {
        return REQUEST_NOTE.equals(note) || SESSION_ID_NOTE.equals(note);
    }

    /** @return the two notes as bytes, or null when neither is set */
    static byte[] encode(Object savedRequest, Object expectedId, SavedRequests requests) throws IOException {
        if (savedRequest == null && expectedId == null) {
            return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte(VERSION);
        writeString(out, (String) expectedId);
        out.writeBoolean(savedRequest != null);
        if (savedRequest != null) {
            requests.write(savedRequest, out);
        }
        out.flush();
        if (bytes.size() > MAX_BYTES) {
            throw new IOException("its saved request takes " + bytes.size() + " bytes, more than " + MAX_BYTES
                    + " (the connector's maxSavePostSize bounds its body)");
        }
        return bytes.toByteArray();
    }

    /** Puts the notes {@link #encode} wrote into {@code notes}; nothing when the bytes do not decode. */
    static void decode(byte[] stored, SavedRequests requests, Map<String, Object> notes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(stored));
        if (in.readByte() != VERSION) {
            throw new IOException("not a FORM login msm wrote (version " + stored[0] + ")");
        }
        String expectedId = readString(in);
        Object savedRequest = in.readBoolean() ? requests.read(in) : null;
        if (in.available() != 0) {
            throw new IOException(in.available() + " bytes past the end");
        }
        if (expectedId != null) {
            notes.put(SESSION_ID_NOTE, expectedId);
        }
        if (savedRequest != null) {
            notes.put(REQUEST_NOTE, savedRequest);
        }
    }

    static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    static String readString(DataInputStream in) throws IOException {
        byte[] utf8 = readBytes(in);
        return utf8 == null ? null : new String(utf8, StandardCharsets.UTF_8);
    }

    static void writeBytes(DataOutputStream out, byte[] b, int offset, int length) throws IOException {
        out.writeInt(length);
        out.write(b, offset, length);
    }

    /** @return null where -1 was written; a length the bytes cannot hold is refused before any allocation */
    static byte[] readBytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length == -1) {
            return null;
        }
        check(in, length, 1);
        byte[] b = new byte[length];
        in.readFully(b);
        return b;
    }

    /** @return a count of items at least {@code minBytesEach} long each, which the remaining bytes can hold */
    static int readCount(DataInputStream in, int minBytesEach) throws IOException {
        return check(in, in.readInt(), minBytesEach);
    }

    private static int check(DataInputStream in, int count, int minBytesEach) throws IOException {
        if (count < 0 || (long) count * minBytesEach > in.available()) {
            throw new IOException("a count of " + count + " where " + in.available() + " bytes remain");
        }
        return count;
    }
}

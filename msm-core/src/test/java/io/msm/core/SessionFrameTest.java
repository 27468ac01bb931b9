package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** Whatever memcached hands back, decode either returns the frame that was written or a clear FrameException. */
class SessionFrameTest {
    private static final byte[] PAYLOAD = "attributes of a session".getBytes(StandardCharsets.UTF_8);
    // Offsets in the header, from the layout in SessionFrame's javadoc.
    private static final int VERSION_OFFSET = 2;
    private static final int FLAGS_OFFSET = 3;

    private static byte[] encoded() {
        return new SessionFrame(200, 1_700_000_000_000L, 1_700_000_123_456L, 1800, "FORM", PAYLOAD).encode();
    }

    private static String decodeError(byte[] bytes) {
        return assertThrows(FrameException.class, () -> SessionFrame.decode(bytes)).getMessage();
    }

    @Test
    void roundTripKeepsHeaderAndPayload() throws Exception {
        SessionFrame f = SessionFrame.decode(encoded());

        assertAll(
                () -> assertEquals(200, f.transcoderId),
                () -> assertEquals(1_700_000_000_000L, f.creationTime),
                () -> assertEquals(1_700_000_123_456L, f.lastAccessedTime),
                () -> assertEquals(1800, f.maxInactiveInterval),
                () -> assertEquals("FORM", f.authType),
                () -> assertArrayEquals(PAYLOAD, f.payload));
    }

    @Test
    void roundTripWithoutAuthTypeAndEmptyPayload() throws Exception {
        byte[] bytes = new SessionFrame(1, 0, 0, -1, null, new byte[0]).encode();

        SessionFrame f = SessionFrame.decode(bytes);

        assertNull(f.authType);
        assertEquals(-1, f.maxInactiveInterval);
        assertEquals(0, f.payload.length);
    }

    @Test
    void garbageIsNotAFrame() {
        String message = decodeError("this is not a frame".getBytes(StandardCharsets.US_ASCII));

        assertTrue(message.contains("not an msm session frame"), message);
    }

    @Test
    void tooShortForMagicIsNotAFrame() {
        assertTrue(decodeError(new byte[] {'m'}).contains("not an msm session frame"));
        assertTrue(decodeError(new byte[0]).contains("not an msm session frame"));
    }

    @Test
    void unknownVersionIsNamed() {
        byte[] bytes = encoded();
        bytes[VERSION_OFFSET] = 9;

        String message = decodeError(bytes);

        assertTrue(message.contains("version 9"), message);
    }

    @Test
    void flippedPayloadByteFailsTheChecksum() {
        byte[] bytes = encoded();
        bytes[bytes.length - 1] ^= 0x01;

        String message = decodeError(bytes);

        assertTrue(message.contains("checksum"), message);
    }

    @Test
    void truncatedFrameIsRejectedAtEveryLength() {
        byte[] bytes = encoded();
        // Every cut, inside the header or the payload, must be a FrameException, never another exception.
        for (int length = 0; length < bytes.length; length++) {
            byte[] cut = Arrays.copyOf(bytes, length);
            assertThrows(FrameException.class, () -> SessionFrame.decode(cut), "cut at " + length);
        }
    }

    @Test
    void extraTrailingBytesAreRejected() {
        byte[] bytes = Arrays.copyOf(encoded(), encoded().length + 1);

        String message = decodeError(bytes);

        assertTrue(message.contains("payload length"), message);
    }

    @Test
    void unknownFlagBitsAreRejected() {
        byte[] bytes = encoded();
        bytes[FLAGS_OFFSET] = 0x04;

        String message = decodeError(bytes);

        assertTrue(message.contains("flags 0x4"), message);
    }

    @Test
    void anEncryptedFrameWithoutKeysSaysSo() {
        byte[] bytes = encoded();
        bytes[FLAGS_OFFSET] = FrameCipher.ENCRYPTED;

        String message = decodeError(bytes);

        assertTrue(message.contains("encrypted, and this Tomcat has no encryptionKeys"), message);
    }
}

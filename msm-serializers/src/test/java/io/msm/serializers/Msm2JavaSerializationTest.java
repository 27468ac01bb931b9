package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderException;

/** 2.3.2's format, as msm writes it beside its own while a cluster switches, and reads it from memcached. */
class Msm2JavaSerializationTest {
    private final Msm2JavaSerialization serialization = new Msm2JavaSerialization(
            new TranscoderContext(getClass().getClassLoader(), null, false));

    @Test
    void aValueNestedTooDeepToSerializeIsLeftOut_andTheOthersAreWritten() throws TranscoderException {
        Node deep = new Node();
        for (int i = 0; i < 200_000; i++) {
            Node up = new Node();
            up.next = deep;
            deep = up;
        }
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("user", "alice");
        attributes.put("chain", deep);

        // Before: the StackOverflowError left the request (a 500) or the backup thread.
        byte[] written = serialization.writeAttributes(attributes);

        assertEquals(Map.of("user", "alice"), serialization.readAttributes(written));
    }

    /** A value whose serialization needs a class that cannot be linked (its jar gone since). */
    static final class Unlinkable implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        private void writeObject(java.io.ObjectOutputStream out) {
            throw new NoClassDefFoundError("com/example/Gone");
        }
    }

    @Test
    void aValueThatCannotBeLinkedIsLeftOut_andTheOthersAreWritten() throws TranscoderException {
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("user", "alice");
        attributes.put("cart", new Unlinkable());

        // Before: the Error passed the retry of each value alone, and left the request (a 500).
        byte[] written = serialization.writeAttributes(attributes);

        assertEquals(Map.of("user", "alice"), serialization.readAttributes(written));
    }

    @Test
    void classNamesInPlantedBytesCannotForgeALogLine() throws TranscoderException {
        String realName = PlantedClassNameHolder.class.getName();
        byte[] bytes = serialization.writeAttributes(Map.of("x", new PlantedClassNameHolder()));
        // The same length, so the stream's length prefix still fits: a line break and a forged line.
        String forged = ("a\n2026-12-05 WARN forged" + "x".repeat(realName.length())).substring(0, realName.length());
        byte[] planted = replace(bytes, realName.getBytes(StandardCharsets.UTF_8), forged.getBytes(StandardCharsets.UTF_8));

        TranscoderException e = assertThrows(TranscoderException.class, () -> serialization.readAttributes(planted));

        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("a\\u000a2026-12-05 WARN forged"), e.getMessage());
    }

    private static byte[] replace(byte[] bytes, byte[] from, byte[] to) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = text.indexOf(new String(from, StandardCharsets.ISO_8859_1));
        assertTrue(at > 0, "the class name is in the stream");
        byte[] out = bytes.clone();
        System.arraycopy(to, 0, out, at, to.length);
        return out;
    }

    static final class Node implements Serializable {
        private static final long serialVersionUID = 1L;
        Node next;
    }

    static final class PlantedClassNameHolder implements Serializable {
        private static final long serialVersionUID = 1L;
        int value = 7;
    }
}

package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.net.URL;
import java.net.URLClassLoader;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderException;

class JavaSerializationTranscoderTest {
    private final Transcoder transcoder = create(getClass().getClassLoader());

    record NamedPrincipal(String name) implements Principal, Serializable {
        @Override
        public String getName() {
            return name;
        }
    }

    @Test
    void attributesAndPrincipalSurviveARoundTrip() throws TranscoderException {
        Map<String, Object> attrs = new LinkedHashMap<>();
        ConcurrentHashMap<String, List<String>> nested = new ConcurrentHashMap<>();
        nested.put("k", new ArrayList<>(List.of("a", "b")));
        attrs.put("user", "alice");
        attrs.put("when", new Date(1234567890L));
        attrs.put("nested", nested);
        SessionContent back = transcoder.decode(transcoder.encode(new SessionContent(attrs, new NamedPrincipal("alice"))));
        assertEquals(attrs, back.attributes());
        assertEquals(new NamedPrincipal("alice"), back.principal());
    }

    @Test
    void anAttributeThatCannotBeSerializedIsLeftOutAndTheRestIsKept() throws TranscoderException {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("before", "kept");
        attrs.put("socket", new Object());
        attrs.put("after", 42L);
        SessionContent back = transcoder.decode(transcoder.encode(new SessionContent(attrs, null)));
        assertEquals(Map.of("before", "kept", "after", 42L), back.attributes());
        assertNull(back.principal());
    }

    /**
     * The attributes of one session share one stream (a reset between them): an attribute that
     * fails halfway, after the stream had written its classes, must not spoil the ones after it, and
     * an object held by two attributes comes back as two equal copies, as each attribute is read alone.
     */
    @Test
    void anAttributeThatFailsHalfwayLeavesTheStreamForTheOthersIntact() throws TranscoderException {
        ArrayList<String> shared = new ArrayList<>(List.of("x", "y"));
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("first", new ArrayList<>(List.of("a")));
        attrs.put("broken", new ArrayList<>(List.of("b", new Object())));
        attrs.put("second", shared);
        attrs.put("third", shared);
        attrs.put("date", new Date(7L));
        SessionContent back = transcoder.decode(transcoder.encode(new SessionContent(attrs, new NamedPrincipal("bob"))));
        assertEquals(Map.of("first", List.of("a"), "second", shared, "third", shared, "date", new Date(7L)),
                back.attributes());
        assertEquals(new NamedPrincipal("bob"), back.principal());
    }

    /** A busy webapp puts the same bad attribute in every request: the log names it once, not per request. */
    @Test
    void anAttributeThatCannotBeSerializedIsNamedOnceWithItsClass() throws TranscoderException {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("before", "kept");
        attrs.put("connection", new NotSerializable());
        attrs.put("after", 42L);
        try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
            SessionContent back = transcoder.decode(transcoder.encode(new SessionContent(attrs, null)));
            transcoder.encode(new SessionContent(attrs, null));
            assertEquals(Map.of("before", "kept", "after", 42L), back.attributes());
            List<String> lines = warnings.messages();
            assertEquals(1, lines.size(), "once across two encodes: " + lines);
            assertTrue(lines.get(0).contains("'connection'") && lines.get(0).contains(NotSerializable.class.getName())
                    && lines.get(0).contains("left out"), lines.get(0));
        }
    }

    @Test
    void anAttributeWhoseClassIsGoneIsDroppedAndTheRestIsKept() throws Exception {
        // The value's class exists only in a throw-away loader, as after a redeploy that removed it.
        try (URLClassLoader onlyHere = new URLClassLoader(new URL[] {testClasses()}, null)) {
            Object gone = onlyHere.loadClass(Gone.class.getName()).getConstructor().newInstance();
            Transcoder writer = create(onlyHere);
            byte[] bytes = writer.encode(new SessionContent(Map.of("gone", gone, "kept", "yes"), null));
            ClassLoader without = new URLClassLoader(new URL[0], null);
            SessionContent back = create(without).decode(bytes);
            assertEquals(Map.of("kept", "yes"), back.attributes());
        }
    }

    @Test
    void classesResolveThroughTheWebappLoader() throws Exception {
        try (URLClassLoader webapp = new URLClassLoader(new URL[] {testClasses()}, null)) {
            Object value = webapp.loadClass(Gone.class.getName()).getConstructor().newInstance();
            Transcoder t = create(webapp);
            Object back = t.decode(t.encode(new SessionContent(Map.of("v", value), null))).attributes().get("v");
            assertTrue(back.getClass().getClassLoader() == webapp, "resolved by the webapp's loader");
        }
    }

    @Test
    void malformedBytesAreAnErrorNotACrash() {
        assertThrows(TranscoderException.class, () -> transcoder.decode(new byte[] {1, 0, 0}));
        assertThrows(TranscoderException.class, () -> transcoder.decode(new byte[] {7}));
        assertThrows(TranscoderException.class, () -> transcoder.decode(new byte[] {1, -1, -1, -1, -1, 0x7f, 0, 0, 0}));
        assertFalse(transcoder.id() == 0);
    }

    private static Transcoder create(ClassLoader loader) {
        return new JavaSerializationTranscoderFactory().create(new TranscoderContext(loader, null, false));
    }

    private static URL testClasses() {
        return JavaSerializationTranscoderTest.class.getProtectionDomain().getCodeSource().getLocation();
    }

    /** A webapp class that forgot {@code implements Serializable}. */
    static final class NotSerializable {
    }

    /** A webapp class. */
    public static class Gone implements Serializable {
        private static final long serialVersionUID = 1L;
        int field = 7;
    }
}

package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderFactory;
import io.msm.serializers.kryo.KryoTranscoderFactory;

/** One attribute at a time: what one serializer cannot write costs that attribute at most. */
class KryoFallbackTest {
    /**
     * Like a lazily loaded ORM collection outside its database session: iterating it fails, but
     * its fields serialize. Kryo iterates collections, Java serialization copies fields.
     */
    static final class LazyList extends UnserializableLazyList implements Serializable {
        private static final long serialVersionUID = 1L;
        final ArrayList<String> loaded = new ArrayList<>(List.of("x"));
    }

    @Test
    void anAttributeKryoCannotWriteIsStoredWithJavaSerializationAndLoggedOncePerClass() throws Exception {
        Transcoder kryo = Transcoding.create(new KryoTranscoderFactory());
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("before", "kept");
        attrs.put("lazy", new LazyList());
        attrs.put("lazy2", new LazyList());
        attrs.put("after", List.of(1, 2));
        try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
            Map<String, Object> back = kryo.decode(kryo.encode(new SessionContent(attrs, null))).attributes();
            kryo.encode(new SessionContent(attrs, null));
            assertEquals(List.of("before", "lazy", "lazy2", "after"), new ArrayList<>(back.keySet()));
            assertEquals(List.of("x"), ((LazyList) back.get("lazy")).loaded);
            assertEquals(List.of(1, 2), back.get("after"));
            assertEquals(1, warnings.messages().size(), "once per class: " + warnings.messages());
            assertTrue(warnings.messages().get(0).contains("'lazy'")
                    && warnings.messages().get(0).contains(LazyList.class.getName())
                    && warnings.messages().get(0).contains("Java serialization instead"), warnings.messages().get(0));
        }
    }

    /** The same lazy collection without {@code Serializable}: Java serialization is no way out either. */
    static class UnserializableLazyList extends AbstractList<String> {
        @Override
        public String get(int index) {
            throw new IllegalStateException("failed to lazily initialize a collection: no session");
        }

        @Override
        public int size() {
            throw new IllegalStateException("failed to lazily initialize a collection: no session");
        }
    }

    @Test
    void anAttributeNeitherCanWriteIsLeftOutAndNamedOnceWithItsClass() throws Exception {
        Transcoder kryo = Transcoding.create(new KryoTranscoderFactory());
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("before", "kept");
        attrs.put("lazy", new UnserializableLazyList());
        try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
            Map<String, Object> back = kryo.decode(kryo.encode(new SessionContent(attrs, null))).attributes();
            kryo.encode(new SessionContent(attrs, null));
            assertEquals(Map.of("before", "kept"), back);
            assertEquals(1, warnings.messages().size(), "once across two encodes: " + warnings.messages());
            String line = warnings.messages().get(0);
            assertTrue(line.contains("'lazy'") && line.contains(UnserializableLazyList.class.getName())
                    && line.contains("left out"), line);
        }
    }

    static java.util.stream.Stream<TranscoderFactory> both() {
        return Transcoding.both();
    }

    /** Bytes that the filter would refuse to read are not written: that attribute is left out, named. */
    @ParameterizedTest
    @MethodSource("both")
    void anAttributeHoldingARefusedClassIsLeftOutWhenWritten(TranscoderFactory f) throws Exception {
        Transcoder t = Transcoding.create(f, getClass().getClassLoader(), "!" + Corpus.Point.class.getName(), false);
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("user", "alice");
        attrs.put("points", new ArrayList<>(List.of(new Corpus.Point(1, 2))));
        try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
            Map<String, Object> back = t.decode(t.encode(new SessionContent(attrs, null))).attributes();
            assertEquals(Map.of("user", "alice"), back);
            assertEquals(1, warnings.messages().size(), String.valueOf(warnings.messages()));
            assertTrue(warnings.messages().get(0).contains("'points'")
                    && warnings.messages().get(0).contains("not allowed by serialFilter"), warnings.messages().get(0));
        }
    }
}

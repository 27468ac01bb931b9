package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderException;
import io.msm.core.TranscoderFactory;

/**
 * Decoding is bounded in CPU as well as in size: bytes an attacker wrote whose rebuilding would
 * hash for minutes are refused within a fraction of a second, as are sessions with more objects
 * than maxrefs or slower than maxmillis. The tests assert which limit refused them, not how long
 * that took: the time is printed only (unbounded, these take from minutes to longer than the universe).
 */
class CpuBoundsTest {
    static Stream<Arguments> bombs() {
        return Transcoding.both().flatMap(f -> Stream.of(
                Arguments.of(Transcoding.name(f), "nested HashSets, depth 100", (Supplier<Object>) () -> HashBombs.hashSets(100), f),
                Arguments.of(Transcoding.name(f), "nested HashMap keys, depth 100", (Supplier<Object>) () -> HashBombs.hashMapKeys(100), f),
                Arguments.of(Transcoding.name(f), "lists in one HashSet, depth 100", (Supplier<Object>) () -> HashBombs.listsInOneSet(100), f),
                Arguments.of(Transcoding.name(f), "records as a HashMap key, depth 100", (Supplier<Object>) () -> HashBombs.beansAsKeys(100), f),
                Arguments.of(Transcoding.name(f), "a cycle in one HashSet", (Supplier<Object>) () -> HashBombs.cycleInOneSet(16), f),
                Arguments.of(Transcoding.name(f), "nested HashSets inside an object with a writeObject",
                        (Supplier<Object>) () -> new HashBombs.Wrapped(HashBombs.hashSets(100)), f)));
    }

    /**
     * What an attacker with access to memcached writes: msm's own format, anything in it. msm's
     * writers refuse much of what their readers would (WrittenIsReadTest), so the attacker's has no checks.
     */
    static byte[] forged(TranscoderFactory f, Object value) {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("user", "alice");
        attrs.put("payload", value);
        ClassLoader loader = CpuBoundsTest.class.getClassLoader();
        Transcoder forger = f instanceof JavaSerializationTranscoderFactory
                ? new JavaSerializationTranscoder(loader, SerialFilter.unchecked())
                : io.msm.serializers.kryo.UncheckedKryo.create(loader, SerialFilter.unchecked());
        return forger.encode(new SessionContent(attrs, null));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("bombs")
    void aHashBombIsRefusedQuickly(String transcoder, String bomb, Supplier<Object> value, TranscoderFactory f) {
        byte[] bytes = forged(f, value.get());
        assertTrue(bytes.length < 20_000, bytes.length + " bytes");
        Transcoder reader = Transcoding.create(f);
        long start = System.nanoTime();
        TranscoderException e = assertThrows(TranscoderException.class, () -> reader.decode(bytes));
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("[cpu-bounds] " + transcoder + ", " + bomb + ": " + bytes.length + " bytes, refused in "
                + millis + " ms: " + e.getMessage());
        assertTrue(e.getMessage().contains("maxhashwork=" + SerialFilter.DEFAULT_MAX_HASH_WORK), e.getMessage());
        assertTrue(e.getMessage().contains("'payload'"), e.getMessage());
    }

    static Stream<Arguments> legit() {
        return Transcoding.both().flatMap(f -> Stream.of(
                Arguments.of(Transcoding.name(f), "sets sharing sets, depth 10", (Supplier<Object>) () -> HashBombs.sharedSets(10), f),
                Arguments.of(Transcoding.name(f), "a folder whose items point back", (Supplier<Object>) () -> new HashBombs.Folder("f", 200), f),
                Arguments.of(Transcoding.name(f), "the items of such a folder", (Supplier<Object>) () -> new HashBombs.Folder("f", 200).items, f),
                Arguments.of(Transcoding.name(f), "keys that share a value", (Supplier<Object>) CpuBoundsTest::sharedKeys, f),
                Arguments.of(Transcoding.name(f), "a big map of strings", (Supplier<Object>) CpuBoundsTest::bigMap, f),
                Arguments.of(Transcoding.name(f), "beans as keys", (Supplier<Object>) CpuBoundsTest::beanKeys, f),
                Arguments.of(Transcoding.name(f), "classes writing their own format", (Supplier<Object>) CpuBoundsTest::ownFormats, f)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("legit")
    void graphsRealSessionsHoldStillPass(String transcoder, String what, Supplier<Object> value, TranscoderFactory f)
            throws Exception {
        Object v = value.get();
        Object back = Transcoding.roundTrip(Transcoding.create(f), v);
        assertEquals(v, back);
        assertSame(v.getClass(), back.getClass());
    }

    /** Fifty sets as keys, all holding the same list of a thousand strings. */
    private static Map<Object, Object> sharedKeys() {
        List<String> shared = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            shared.add("s" + i);
        }
        Map<Object, Object> map = new HashMap<>();
        for (int i = 0; i < 50; i++) {
            map.put(new HashSet<>(List.of("k" + i, shared)), i);
        }
        return map;
    }

    private static Map<Object, String> beanKeys() {
        Map<Object, String> map = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            map.put(new Corpus.Point(i, i % 7), "p" + i);
        }
        return map;
    }

    /** Their primitive values begin with bytes that could also be type codes of the stream. */
    private static Set<Object> ownFormats() {
        Set<Object> set = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            set.add(new HashBombs.OwnFormat(0x7770_0000 + i, (byte) (0x70 + i % 16), "label" + i,
                    i % 3 == 0 ? List.of("x", i) : new HashBombs.OwnFormat(i, (byte) 0x78, "inner", null)));
        }
        return set;
    }

    private static Map<String, Integer> bigMap() {
        Map<String, Integer> map = new HashMap<>();
        for (int i = 0; i < 100_000; i++) {
            map.put("key" + i, i);
        }
        return map;
    }

    static Stream<TranscoderFactory> both() {
        return Transcoding.both();
    }

    @ParameterizedTest
    @MethodSource("both")
    void moreObjectsThanMaxrefsDiscardTheSession(TranscoderFactory f) throws Exception {
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            many.add(new Corpus.Point(i, i));
        }
        byte[] bytes = forged(f, many);
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> Transcoding.create(f, getClass().getClassLoader(), "maxrefs=1000", false).decode(bytes));
        assertTrue(e.getMessage().contains("maxrefs=1000"), e.getMessage());
        assertTrue(e.getMessage().contains("the whole session is discarded"), e.getMessage());
        assertEquals(many, Transcoding.create(f, getClass().getClassLoader(), "maxrefs=10000", false).decode(bytes)
                .attributes().get("payload"));
        assertEquals(many, Transcoding.create(f).decode(bytes).attributes().get("payload"));
    }

    @ParameterizedTest
    @MethodSource("both")
    void maxrefsCountsTheWholeSessionNotEachAttribute(TranscoderFactory f) throws Exception {
        Map<String, Object> attrs = new LinkedHashMap<>();
        for (int a = 0; a < 5; a++) {
            List<Object> points = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                points.add(new Corpus.Point(a, i));
            }
            attrs.put("list" + a, points);
        }
        Transcoder anything = Transcoding.create(f, getClass().getClassLoader(), "*;@gadgets", false);
        byte[] bytes = anything.encode(new SessionContent(attrs, null));
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> Transcoding.create(f, getClass().getClassLoader(), "maxrefs=1000", false).decode(bytes));
        assertTrue(e.getMessage().contains("maxrefs=1000"), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("both")
    void hashingBeyondMaxhashworkDiscardsTheSession(TranscoderFactory f) throws Exception {
        Set<Object> keys = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            keys.add(new ArrayList<>(List.of("a" + i, "b", "c"))); // 4 steps each
        }
        byte[] bytes = forged(f, keys);
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> Transcoding.create(f, getClass().getClassLoader(), "maxhashwork=300", false).decode(bytes));
        assertTrue(e.getMessage().contains("maxhashwork=300"), e.getMessage());
        assertEquals(keys, Transcoding.create(f, getClass().getClassLoader(), "maxhashwork=450", false)
                .decode(bytes).attributes().get("payload"));
    }

    @ParameterizedTest
    @MethodSource("both")
    void decodingLongerThanMaxmillisDiscardsTheSession(TranscoderFactory f) throws Exception {
        List<Object> many = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            many.add(new Corpus.Point(i, -i));
        }
        byte[] bytes = forged(f, many);
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> Transcoding.create(f, getClass().getClassLoader(), "maxmillis=1", false).decode(bytes));
        assertTrue(e.getMessage().contains("maxmillis=1"), e.getMessage());
        assertEquals(many.size(), ((List<?>) Transcoding.create(f).decode(bytes).attributes().get("payload")).size());
    }
}

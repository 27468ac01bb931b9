package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

import javax.management.BadAttributeValueExpException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderException;
import io.msm.core.TranscoderFactory;
import io.msm.serializers.kryo.KryoTranscoderFactory;

/**
 * Bytes an attacker wrote into memcached: refused classes and exceeded limits discard the whole
 * session before anything of the refused class is loaded; report-only mode logs and accepts.
 */
class SafetyTest {
    static java.util.stream.Stream<TranscoderFactory> both() {
        return Transcoding.both();
    }

    @AfterEach
    void clear() {
        System.clearProperty(Gadgets.FIRED);
    }

    /** What an attacker with access to memcached writes: msm's own format, any class in it. */
    private static byte[] encode(TranscoderFactory f, Object value) {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("user", "alice");
        attrs.put("payload", value);
        Transcoder anything = Transcoding.create(f, SafetyTest.class.getClassLoader(), "*;@gadgets", false);
        byte[] bytes = anything.encode(new SessionContent(attrs, null));
        System.clearProperty(Gadgets.FIRED);
        return bytes;
    }

    @ParameterizedTest
    @MethodSource("both")
    void aCommonsCollectionsGadgetChainIsRejectedBeforeAnyOfItsClassesIsLoaded(TranscoderFactory f) throws Exception {
        String name = Transcoding.name(f);
        byte[] bytes = encode(f, Gadgets.chainFor(name));
        try (Gadgets.WebappLoader webapp = new Gadgets.WebappLoader()) {
            Transcoder reader = Transcoding.create(f, webapp, null, false);
            TranscoderException e = assertThrows(TranscoderException.class, () -> reader.decode(bytes));
            assertTrue(e.getMessage().contains("is not allowed by serialFilter"), e.getMessage());
            assertTrue(e.getMessage().contains("org.apache.commons.collections."), e.getMessage());
            assertEquals(List.of(), webapp.loadedGadgetClasses(), "no gadget class was even loaded");
        }
        assertFalse(Gadgets.fired(), "the chain did not run");
    }

    /** Proves that the payload above is live: with the gadget list switched off it runs. */
    @ParameterizedTest
    @MethodSource("both")
    void theSameChainRunsWhenAnOperatorPutsEverythingBeforeTheGadgetList(TranscoderFactory f) throws Exception {
        byte[] bytes = encode(f, Gadgets.chainFor(Transcoding.name(f)));
        try (Gadgets.WebappLoader webapp = new Gadgets.WebappLoader()) {
            try {
                Transcoding.create(f, webapp, "*;@gadgets", false).decode(bytes);
            } catch (TranscoderException e) {
                // the chain may break the object it hides in; what counts is that it ran
            }
        }
        assertTrue(Gadgets.fired(), "the chain ran: the rejection test above is not vacuous");
    }

    @ParameterizedTest
    @MethodSource("both")
    void aJdkClassOutsideTheAllowListDiscardsTheSession(TranscoderFactory f) {
        byte[] bytes = encode(f, new BadAttributeValueExpException("toString() trigger of several chains"));
        TranscoderException e = assertThrows(TranscoderException.class, () -> Transcoding.create(f).decode(bytes));
        assertTrue(e.getMessage().contains("javax.management.BadAttributeValueExpException"), e.getMessage());
    }

    /**
     * {@code java.util.*} is allowed, for Java serialization's sake; Kryo would build a
     * {@code java.util.Timer} from planted bytes, and its constructor starts a thread.
     */
    @Test
    void kryoBuildsNoJdkClassThatIsNotSerializable_aPlantedTimerStartsNoThread() {
        TranscoderFactory kryo = new KryoTranscoderFactory();
        byte[] planted = renamed(encode(kryo, new plant.TimerLike()), "plant.TimerLike", "java.util.Timer");
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        TranscoderException e = assertThrows(TranscoderException.class, () -> Transcoding.create(kryo).decode(planted));
        assertTrue(e.getMessage().contains("java.util.Timer") && e.getMessage().contains("not Serializable"),
                e.getMessage());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(!before.contains(t) && t.getName().startsWith("Timer-"), "a Timer's thread started: " + t);
        }
    }

    /** What Kryo would not read back is not written: the attribute is left out, the session kept. */
    @Test
    void aJdkObjectThatIsNotSerializableIsLeftOutWhenKryoWritesIt() throws Exception {
        Transcoding.leftOut(Transcoding.create(new KryoTranscoderFactory()), new StringJoiner(","));
        assertEquals(Optional.of("kept"), Transcoding.roundTrip(Transcoding.create(new KryoTranscoderFactory()),
                Optional.of("kept")), "Kryo's own serializer of a JDK class still serves");
    }

    /**
     * {@code URL.hashCode()} resolves the host name: a planted set of URLs would make each read send
     * DNS lookups (a signal to the attacker, and a request thread held for each one that times out).
     */
    @ParameterizedTest
    @MethodSource("both")
    void aPlantedSetOfUrlsDiscardsTheSessionByDefault(TranscoderFactory f) throws Exception {
        byte[] bytes = encode(f, new HashSet<>(List.of(new URL("http://planted.invalid/"))));
        TranscoderException e = assertThrows(TranscoderException.class, () -> Transcoding.create(f).decode(bytes));
        assertTrue(e.getMessage().contains("java.net.URL"), e.getMessage());
    }

    /** Not allowed by default: left out when written, named; a webapp that keeps URLs adds the class. */
    @ParameterizedTest
    @MethodSource("both")
    void aUrlIsLeftOutByDefault_andStoredOnceTheFilterNamesIt(TranscoderFactory f) throws Exception {
        URL url = new URL("https://example.org:8443/path?q=1");
        Transcoding.leftOut(Transcoding.create(f), url);
        Object back = Transcoding.roundTrip(
                Transcoding.create(f, getClass().getClassLoader(), "java.net.URL", false), url);
        assertEquals(url.toString(), back.toString());
    }

    /**
     * A package entry does not lift the refusal; the class's exact name does (a webapp that keeps such
     * an object on Java 8). Beans: a JDK class that is not Serializable and has no fields.
     */
    @Test
    void anExactSerialFilterEntryLetsKryoStoreSuchAJdkObject_aPackageEntryDoesNot() throws Exception {
        TranscoderFactory kryo = new KryoTranscoderFactory();
        ClassLoader loader = getClass().getClassLoader();
        Object value = new java.beans.Beans();
        Transcoding.leftOut(Transcoding.create(kryo, loader, "java.beans.*", false), value);
        Object back = Transcoding.roundTrip(Transcoding.create(kryo, loader, "java.beans.Beans", false), value);
        assertEquals(java.beans.Beans.class, back.getClass());
    }

    /** A plain webapp class: Kryo writes its field names, then its fields. */
    static final class Probe {
        String abcd = "x";
    }

    /**
     * Kryo reads a count of field names and allocates for it before any name: forged to two billion it
     * threw OutOfMemoryError out of the decode (a 500, and a non-sticky lock left held).
     */
    @Test
    void aForgedCountOfKryoFieldNamesDiscardsTheSessionWithoutAllocatingForIt() {
        TranscoderFactory kryo = new KryoTranscoderFactory();
        byte[] bytes = encode(kryo, new Probe());
        byte[] count = {0x01, 'a', 'b', 'c', (byte) ('d' | 0x80)}; // one field, "abcd"
        byte[] forged = null;
        for (int i = 0; i + count.length <= bytes.length && forged == null; i++) {
            if (Arrays.equals(Arrays.copyOfRange(bytes, i, i + count.length), count)) {
                forged = bytes.clone();
                System.arraycopy(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07}, 0, forged, i, 5);
            }
        }
        assertNotNull(forged, "the field names are where Kryo writes them");
        byte[] planted = forged;
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> Transcoding.create(kryo).decode(planted));
        assertTrue(e.getMessage().contains("field names") && e.getMessage().contains("bytes follow"), e.getMessage());
    }

    /** More fields than the maxarray below. */
    static final class ThreeFields {
        String a = "a";
        String b = "b";
        String c = "c";
    }

    /** The check of the field-name count is against the bytes left: maxarray is for the webapp's arrays. */
    @Test
    void aClassWithMoreFieldsThanMaxarrayStillReadsBackWithKryo() throws Exception {
        Transcoder kryo = Transcoding.create(new KryoTranscoderFactory(), getClass().getClassLoader(), "maxarray=2",
                false);
        byte[] bytes = kryo.encode(new SessionContent(Map.of("p", new ThreeFields()), null));
        assertEquals("c", ((ThreeFields) kryo.decode(bytes).attributes().get("p")).c);
    }

    /** Kryo writes a class name in ASCII with the high bit set on its last character. */
    private static byte[] renamed(byte[] bytes, String from, String to) {
        byte[] a = kryoAscii(from);
        byte[] b = kryoAscii(to);
        for (int i = 0; i + a.length <= bytes.length; i++) {
            if (Arrays.equals(Arrays.copyOfRange(bytes, i, i + a.length), a)) {
                byte[] out = bytes.clone();
                System.arraycopy(b, 0, out, i, b.length);
                return out;
            }
        }
        throw new AssertionError(from + " not found in the written bytes");
    }

    private static byte[] kryoAscii(String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        b[b.length - 1] |= (byte) 0x80;
        return b;
    }

    @ParameterizedTest
    @MethodSource("both")
    void reportOnlyModeLogsARefusedClassOnceAndAcceptsIt(TranscoderFactory f) throws Exception {
        String filter = "!" + Corpus.Point.class.getName();
        byte[] bytes = encode(f, new Corpus.Point(1, 2));
        assertThrows(TranscoderException.class,
                () -> Transcoding.create(f, getClass().getClassLoader(), filter, false).decode(bytes));

        Transcoder reporting = Transcoding.create(f, getClass().getClassLoader(), filter, true);
        try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
            assertEquals(new Corpus.Point(1, 2), reporting.decode(bytes).attributes().get("payload"));
            assertEquals(new Corpus.Point(1, 2), reporting.decode(bytes).attributes().get("payload"));
            assertEquals(1, warnings.messages().size(), "once per class: " + warnings.messages());
            assertTrue(warnings.messages().get(0).contains(Corpus.Point.class.getName() + " would be rejected"));
        }
    }

    @ParameterizedTest
    @MethodSource("both")
    void aStrictFilterOfTheOperatorReplacesTheDefaults(TranscoderFactory f) throws Exception {
        byte[] bytes = encode(f, new Corpus.Point(1, 2));
        String strict = "@jdk;!*";
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> Transcoding.create(f, getClass().getClassLoader(), strict, false).decode(bytes));
        assertTrue(e.getMessage().contains(Corpus.Point.class.getName()), e.getMessage());
        byte[] plain = encode(f, new ArrayList<>(List.of("only", "jdk", "types")));
        assertEquals(List.of("only", "jdk", "types"), Transcoding.create(f, getClass().getClassLoader(), strict, false)
                .decode(plain).attributes().get("payload"));
    }

    @ParameterizedTest
    @MethodSource("both")
    void anObjectGraphDeeperThanMaxdepthDiscardsTheSession(TranscoderFactory f) {
        List<Object> deep = Transcoding.nestedLists(60);
        byte[] bytes = encode(f, deep);
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> Transcoding.create(f, getClass().getClassLoader(), "maxdepth=30", false).decode(bytes));
        assertTrue(e.getMessage().contains("maxdepth=30"), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("both")
    void anArrayOrCollectionLongerThanMaxarrayDiscardsTheSession(TranscoderFactory f) {
        java.util.HashSet<Integer> set = new java.util.HashSet<>();
        java.util.HashMap<Integer, Integer> map = new java.util.HashMap<>();
        for (int i = 0; i < 5000; i++) {
            set.add(i);
            map.put(i, i);
        }
        // Kryo sizes a HashSet's and a HashMap's table by the number it reads, as Java does with its arrays.
        // nCopies stores one element for all of them: its count must be checked on its own.
        for (Object big : new Object[] {new int[5000], new ArrayList<>(java.util.Collections.nCopies(5000, "x")),
            new String[5000], set, map, java.util.Collections.nCopies(5000, "x")}) {
            byte[] bytes = encode(f, big);
            TranscoderException e = assertThrows(TranscoderException.class,
                    () -> Transcoding.create(f, getClass().getClassLoader(), "maxarray=1000", false).decode(bytes));
            assertTrue(e.getMessage().contains("maxarray=1000"), big.getClass() + ": " + e.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("both")
    void sessionBytesLargerThanMaxbytesAreRefusedUnread(TranscoderFactory f) {
        byte[] bytes = encode(f, "x".repeat(5000));
        TranscoderException e = assertThrows(TranscoderException.class,
                () -> Transcoding.create(f, getClass().getClassLoader(), "maxbytes=4096", false).decode(bytes));
        assertTrue(e.getMessage().contains("maxbytes=4096"), e.getMessage());
    }
}

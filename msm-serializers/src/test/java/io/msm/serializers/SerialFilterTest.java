package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderFactory;

/** The serialFilter syntax, its decisions, and the messages for malformed values. */
class SerialFilterTest {
    @ParameterizedTest
    @ValueSource(strings = {"org.apache.commons.collections.functors.InvokerTransformer",
        "org.apache.commons.collections.functors.ChainedTransformer",
        "org.apache.commons.collections.keyvalue.TiedMapEntry",
        "org.codehaus.groovy.runtime.ConvertedClosure", "org.codehaus.groovy.runtime.MethodClosure",
        "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl", "org.apache.xalan.xsltc.trax.TemplatesImpl",
        "org.springframework.beans.factory.support.AutowireUtils$ObjectFactoryDelegatingInvocationHandler",
        "org.springframework.core.SerializableTypeWrapper$MethodInvokeTypeProvider",
        "javax.management.BadAttributeValueExpException", "java.rmi.server.UnicastRef",
        "sun.reflect.annotation.AnnotationInvocationHandler", "com.sun.rowset.JdbcRowSetImpl",
        "java.lang.reflect.Proxy", "java.lang.Runtime", "java.lang.ProcessBuilder",
        "[Lorg.apache.commons.collections.functors.InvokerTransformer;"})
    void knownGadgetsAndOtherJdkClassesAreRejectedByDefault(String className) {
        assertThrows(RejectedContentException.class, () -> SerialFilter.builtIn().check(className));
    }

    @ParameterizedTest
    @ValueSource(strings = {"java.lang.String", "java.util.HashMap", "java.util.Collections$UnmodifiableSet",
        "java.util.ImmutableCollections$ListN", "java.util.CollSer", "java.util.concurrent.ConcurrentHashMap",
        "java.util.concurrent.ConcurrentHashMap$Segment", "java.time.Ser", "java.math.BigDecimal", "java.net.URI",
        "sun.util.calendar.ZoneInfo", "[Ljava.lang.Object;", "[[I", "org.nrg.xdat.security.XDATUser",
        "org.springframework.security.core.context.SecurityContextImpl",
        "org.apache.commons.collections.map.HashedMap", "java.util.concurrent.locks.ReentrantReadWriteLock",
        "java.util.concurrent.locks.ReentrantReadWriteLock$ReadLock",
        "java.util.concurrent.locks.ReentrantReadWriteLock$NonfairSync", "java.util.concurrent.locks.StampedLock",
        "java.beans.PropertyChangeSupport", "javax.servlet.http.Cookie", "jakarta.servlet.http.Cookie"})
    void jdkValueTypesAndTheWebappsOwnClassesAreAllowedByDefault(String className) {
        assertDoesNotThrow(() -> SerialFilter.builtIn().check(className));
    }

    /** Values webapps keep in sessions beside their own classes: stored and read back under the defaults. */
    @Test
    void locksAndPropertyChangeSupportRoundTripUnderTheDefaults() throws Exception {
        for (io.msm.core.TranscoderFactory f : (Iterable<io.msm.core.TranscoderFactory>) Transcoding.both()::iterator) {
            Object lock = Transcoding.roundTrip(Transcoding.create(f),
                    new java.util.concurrent.locks.ReentrantReadWriteLock(true));
            org.junit.jupiter.api.Assertions.assertTrue(
                    ((java.util.concurrent.locks.ReentrantReadWriteLock) lock).isFair(), Transcoding.name(f));
            org.junit.jupiter.api.Assertions.assertNotNull(Transcoding.roundTrip(Transcoding.create(f),
                    new java.util.concurrent.locks.StampedLock()), Transcoding.name(f));
            org.junit.jupiter.api.Assertions.assertNotNull(Transcoding.roundTrip(Transcoding.create(f),
                    new java.beans.PropertyChangeSupport("source")), Transcoding.name(f));
        }
    }

    @Test
    void operatorEntriesExtendTheListsButNeverReopenAGadgetWithAWildcard() {
        SerialFilter filter = SerialFilter.parse("org.apache.**;javax.faces.**;!com.example.Legacy*", false);
        filter.check("javax.faces.component.StateHolderSaver");
        assertThrows(RejectedContentException.class, () -> filter.check("com.example.LegacyCart"));
        assertThrows(RejectedContentException.class,
                () -> filter.check("org.apache.commons.collections.functors.InvokerTransformer"),
                "the gadget list is tried before the operator's entries");
    }

    @Test
    void aFilterThatNamesTheBuiltInListsAndEndsInACatchAllReplacesThem() {
        SerialFilter strict = SerialFilter.parse("@gadgets;@jdk;org.nrg.**;!*", false);
        strict.check("org.nrg.Cart");
        strict.check("java.util.ArrayList");
        assertThrows(RejectedContentException.class, () -> strict.check("com.example.Cart"));

        SerialFilter packageOnly = SerialFilter.parse("com.example.*;!*", false);
        packageOnly.check("com.example.Cart");
        assertThrows(RejectedContentException.class, () -> packageOnly.check("com.example.sub.Cart"));
        assertThrows(RejectedContentException.class, () -> packageOnly.check("java.lang.String"),
                "@jdk was not named, and !* comes before it");
    }

    @Test
    void limitsAreReadAndDefaultOtherwise() {
        SerialFilter f = SerialFilter.parse(" maxdepth=20 ; maxarray=300;maxbytes=4096 ;maxrefs=777;"
                + " maxhashwork=5000 ; maxmillis=250", false);
        assertEquals(List.of(20, 300, 4096, 777, 5000, 250), List.of(f.maxDepth(), f.maxArray(), f.maxBytes(),
                f.maxRefs(), f.maxHashWork(), f.maxMillis()));
        SerialFilter d = SerialFilter.builtIn();
        assertEquals(List.of(SerialFilter.DEFAULT_MAX_DEPTH, SerialFilter.DEFAULT_MAX_ARRAY,
                SerialFilter.DEFAULT_MAX_BYTES, SerialFilter.DEFAULT_MAX_REFS, SerialFilter.DEFAULT_MAX_HASH_WORK,
                SerialFilter.DEFAULT_MAX_MILLIS), List.of(d.maxDepth(), d.maxArray(), d.maxBytes(), d.maxRefs(),
                d.maxHashWork(), d.maxMillis()));
        SerialFilter mixed = SerialFilter.parse("com.example.**;maxrefs=5000;!com.example.Bad", false);
        assertEquals(5000, mixed.maxRefs());
        assertEquals(SerialFilter.DEFAULT_MAX_DEPTH, mixed.maxDepth());
    }

    static Stream<Arguments> malformed() {
        return Transcoding.both().flatMap(f -> Stream.of(
                Arguments.of(f, "com..example.*", List.of("serialFilter", "'com..example.*'", "com.example.**", "!")),
                Arguments.of(f, "com.example.*Cart", List.of("serialFilter", "'com.example.*Cart'", "prefix")),
                Arguments.of(f, "!@jdk", List.of("serialFilter", "'!@jdk'", "@gadgets or @jdk")),
                Arguments.of(f, "maxdepth=deep", List.of("serialFilter", "'maxdepth=deep'", "whole number",
                        "maxdepth=500")),
                Arguments.of(f, "maxarray=0", List.of("serialFilter", "'maxarray=0'", "maxarray=1000000")),
                Arguments.of(f, "maxsize=10", List.of("serialFilter", "'maxsize=10'", "maxdepth=N, maxarray=N,"
                        + " maxbytes=N, maxrefs=N, maxhashwork=N or maxmillis=N")),
                Arguments.of(f, "maxrefs=lots", List.of("serialFilter", "'maxrefs=lots'", "whole number from 1",
                        "maxrefs=1000000 for the default")),
                Arguments.of(f, "maxrefs=", List.of("serialFilter", "'maxrefs='", "whole number", "maxrefs=1000000")),
                Arguments.of(f, "maxhashwork=0", List.of("serialFilter", "'maxhashwork=0'", "whole number",
                        "maxhashwork=32000000")),
                Arguments.of(f, "maxmillis=-5", List.of("serialFilter", "'maxmillis=-5'", "whole number",
                        "maxmillis=5000")),
                Arguments.of(f, "maxrefs=99999999999", List.of("serialFilter", "'maxrefs=99999999999'",
                        "from 1 to 2147483647")),
                Arguments.of(f, "com.example.*;maxref=10", List.of("serialFilter", "'maxref=10'", "names no limit",
                        "maxrefs=N"))));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("malformed")
    void aMalformedFilterStopsTheFactoryWithAMessageSayingWhatToWrite(TranscoderFactory factory, String spec,
            List<String> expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> factory.create(new TranscoderContext(getClass().getClassLoader(), spec, false)));
        for (String part : expected) {
            assertTrue(e.getMessage().contains(part), "message names " + part + ": " + e.getMessage());
        }
    }
}

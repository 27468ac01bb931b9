package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderFactory;

/**
 * What a transcoder writes, the same transcoder reads back: a value that its reader's limits would
 * refuse is left out when written, with a WARN naming it, and the rest of the session survives. A
 * reader discards a session that breaks a limit as a whole (bytes msm did not write); a session msm
 * wrote must never meet that fate at a failover, the worst moment to learn of it.
 */
class WrittenIsReadTest {

    static Stream<Arguments> overLimits() {
        Stream<Arguments> both = Transcoding.both().flatMap(f -> Stream.of(
                Arguments.of(Transcoding.name(f), "beans linked 600 deep", (Supplier<Object>) () -> chain(600), f),
                Arguments.of(Transcoding.name(f), "lists nested 600 deep",
                        (Supplier<Object>) () -> Transcoding.nestedLists(600), f),
                Arguments.of(Transcoding.name(f), "a folder of 1000 items that point back",
                        (Supplier<Object>) () -> new HashBombs.Folder("f", 1000), f),
                Arguments.of(Transcoding.name(f), "beans linked 600 deep in a class with a writeObject (Kryo: Java inside)",
                        (Supplier<Object>) () -> new OwnFormat(chain(600)), f)));
        // Java's writer scans what it wrote as its readers do; Kryo checks the depth of its own objects and
        // scans what it writes through Java serialization, but leaves its own hash collections to its readers.
        Stream<Arguments> java = Stream.of(Arguments.of("Java", "a set holding what holds it",
                (Supplier<Object>) () -> HashBombs.cycleInOneSet(16), new JavaSerializationTranscoderFactory()));
        return Stream.concat(both, java);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("overLimits")
    void aValueTheReaderWouldRefuseIsLeftOutWhenWritten_theRestOfTheSessionIsRead(String transcoder, String what,
            Supplier<Object> value, TranscoderFactory f) throws Exception {
        Transcoder t = Transcoding.create(f);
        try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
            Map<String, Object> attributes = new LinkedHashMap<>();
            attributes.put("user", "alice");
            attributes.put("v", value.get());
            SessionContent back = t.decode(t.encode(new SessionContent(attributes, null)));
            assertEquals("alice", back.attributes().get("user"), "the session is read: " + warnings.messages());
            List<String> lines = warnings.messages();
            if (!back.attributes().containsKey("v")) {
                assertEquals(1, lines.size(), "left out with one WARN: " + lines);
                assertTrue(lines.get(0).contains("'v'") && lines.get(0).contains(" is left out")
                        && lines.get(0).contains("serialFilter max"), "names it and the limit: " + lines.get(0));
            }
        }
    }

    /**
     * A value whose reading takes longer than maxmillis (set low by an operator) is left out when
     * written: the writer's scan is timed too, and tried twice, so that one pause does not leave out
     * what readers take, while a value that always takes that long does not cost its whole session.
     */
    @org.junit.jupiter.api.Test
    void aValueSlowerToReadThanMaxmillisIsLeftOutWhenWritten() throws Exception {
        Transcoder t = Transcoding.create(new JavaSerializationTranscoderFactory(), getClass().getClassLoader(),
                "maxmillis=1", false);
        java.util.List<Integer> numbers = new java.util.ArrayList<>();
        for (int i = 0; i < 300_000; i++) {
            numbers.add(i);
        }
        try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
            Map<String, Object> attributes = new LinkedHashMap<>();
            attributes.put("user", "alice");
            attributes.put("numbers", numbers);
            SessionContent back = t.decode(t.encode(new SessionContent(attributes, null)));
            assertEquals(Map.of("user", "alice"), back.attributes(), "read, without the value: " + warnings.messages());
            assertTrue(warnings.messages().stream().anyMatch(l -> l.contains("'numbers'") && l.contains("maxmillis=1")),
                    warnings.messages().toString());
        }
    }

    /** A linked chain of beans, each holding the next: as deep as it is long for Java serialization. */
    static Link chain(int length) {
        Link head = null;
        for (int i = 0; i < length; i++) {
            head = new Link(i, head);
        }
        return head;
    }

    /** Written through Java serialization inside Kryo's stream, as every class with a writeObject is. */
    static final class OwnFormat implements Serializable {
        private static final long serialVersionUID = 1L;
        final Link chain;

        OwnFormat(Link chain) {
            this.chain = chain;
        }

        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            out.defaultWriteObject();
        }
    }

    static final class Link implements Serializable {
        private static final long serialVersionUID = 1L;
        final int value;
        final Link next;

        Link(int value, Link next) {
            this.value = value;
            this.next = next;
        }
    }
}

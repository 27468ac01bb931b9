package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.EncodedBlocks;
import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderException;
import io.msm.core.TranscoderFactory;
import io.msm.serializers.kryo.KryoTranscoderFactory;

/**
 * An encode reuses an attribute's bytes only while the value is provably as it was: every change in
 * place, whether or not the webapp read the attribute through the session API, is written again.
 */
class EncodedBlocksTest {

    /** A webapp's mutable bean: plain fields, one of them another bean. */
    static final class Bean implements Serializable {
        private static final long serialVersionUID = 1L;
        String name;
        int visits;
        List<String> tags = new ArrayList<>();
        Date since = new Date(1000);
        long[] scores = {1, 2, 3};
        Bean child;

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Bean)) {
                return false;
            }
            Bean b = (Bean) o;
            return Objects.equals(name, b.name) && visits == b.visits && tags.equals(b.tags) && since.equals(b.since)
                    && Arrays.equals(scores, b.scores) && Objects.equals(child, b.child);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, visits);
        }
    }

    /** Writes its state its own way: no shadow is possible, so it is serialized at every encode. */
    static final class OwnForm implements Serializable {
        private static final long serialVersionUID = 1L;
        transient StringBuilder text = new StringBuilder("a");

        private void writeObject(ObjectOutputStream out) throws IOException {
            out.writeUTF(text.toString());
        }

        private void readObject(java.io.ObjectInputStream in) throws IOException {
            text = new StringBuilder(in.readUTF());
        }
    }

    /** Refers to itself: deeper than any shadow, so serialized at every encode. */
    static final class Node implements Serializable {
        private static final long serialVersionUID = 1L;
        String label = "n";
        Node next;
    }

    static Stream<TranscoderFactory> both() {
        return Transcoding.both();
    }

    private static Transcoder create(TranscoderFactory f) {
        return Transcoding.create(f, EncodedBlocksTest.class.getClassLoader(), null, false);
    }

    private static Map<String, Object> session() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("user", "alice");
        a.put("userId", 42L);
        a.put("pages", new ArrayList<>(List.of("/a", "/b")));
        a.put("prefs", new LinkedHashMap<>(Map.of("lang", "en")));
        a.put("access", new ConcurrentHashMap<>(Map.of("P1", 1)));
        a.put("sorted", new TreeMap<>(Map.of("k", "v")));
        a.put("login", new Date(5000));
        a.put("bytes", new byte[] {1, 2});
        a.put("items", new Object[] {"x", new ArrayList<>(List.of("y"))});
        Bean bean = new Bean();
        bean.name = "profile";
        bean.child = new Bean();
        a.put("bean", bean);
        a.put("roles", List.of("ROLE_USER"));
        return a;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void anUnchangedSessionReusesEveryBlockAndEncodesToTheSameBytes(TranscoderFactory f) throws TranscoderException {
        Transcoder t = create(f);
        Map<String, Object> attributes = session();
        EncodedBlocks blocks = new EncodedBlocks();
        byte[] first = t.encode(new SessionContent(attributes, null), blocks);
        assertEquals(attributes.size(), blocks.written());
        byte[] second = t.encode(new SessionContent(attributes, null), blocks);
        assertEquals(attributes.size(), blocks.reused());
        assertEquals(0, blocks.written());
        assertArrayEquals(first, second);
        assertArrayEquals(t.encode(new SessionContent(attributes, null)), second, "what a full encode writes");
    }

    static Stream<Object[]> changesInPlace() {
        List<Object[]> changes = new ArrayList<>();
        for (TranscoderFactory f : Transcoding.both().toArray(TranscoderFactory[]::new)) {
            String t = Transcoding.name(f);
            changes.add(new Object[] {t, f, "list element added", (Consumer<Map<String, Object>>) a -> list(a, "pages").add("/c")});
            changes.add(new Object[] {t, f, "list element replaced", (Consumer<Map<String, Object>>) a -> list(a, "pages").set(0, "/z")});
            changes.add(new Object[] {t, f, "map value replaced", (Consumer<Map<String, Object>>) a -> map(a, "prefs").put("lang", "de")});
            changes.add(new Object[] {t, f, "concurrent map entry", (Consumer<Map<String, Object>>) a -> map(a, "access").put("P2", 2)});
            changes.add(new Object[] {t, f, "sorted map entry", (Consumer<Map<String, Object>>) a -> map(a, "sorted").put("a", "b")});
            changes.add(new Object[] {t, f, "date moved", (Consumer<Map<String, Object>>) a -> ((Date) a.get("login")).setTime(9)});
            changes.add(new Object[] {t, f, "byte changed", (Consumer<Map<String, Object>>) a -> ((byte[]) a.get("bytes"))[1] = 7});
            changes.add(new Object[] {t, f, "list inside an array", (Consumer<Map<String, Object>>) a -> list(((Object[]) a.get("items"))[1]).add("w")});
            changes.add(new Object[] {t, f, "bean field", (Consumer<Map<String, Object>>) a -> bean(a).name = "other"});
            changes.add(new Object[] {t, f, "bean primitive", (Consumer<Map<String, Object>>) a -> bean(a).visits++});
            changes.add(new Object[] {t, f, "bean's list", (Consumer<Map<String, Object>>) a -> bean(a).tags.add("t")});
            changes.add(new Object[] {t, f, "bean's date", (Consumer<Map<String, Object>>) a -> bean(a).since.setTime(77)});
            changes.add(new Object[] {t, f, "bean's array", (Consumer<Map<String, Object>>) a -> bean(a).scores[0] = 9});
            changes.add(new Object[] {t, f, "nested bean", (Consumer<Map<String, Object>>) a -> bean(a).child.name = "kid"});
            changes.add(new Object[] {t, f, "nested bean removed", (Consumer<Map<String, Object>>) a -> bean(a).child = null});
            changes.add(new Object[] {t, f, "one list now shared twice", (Consumer<Map<String, Object>>) a -> bean(a).child.tags = bean(a).tags});
        }
        return changes.stream();
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("changesInPlace")
    void aValueChangedInPlaceIsWrittenAgainThoughNobodyReadIt(String transcoder, TranscoderFactory f, String change,
            Consumer<Map<String, Object>> mutation) throws TranscoderException {
        Transcoder t = create(f);
        Map<String, Object> attributes = session();
        EncodedBlocks blocks = encodedOnce(t, attributes);
        mutation.accept(attributes); // the webapp kept a reference and changed it: no getAttribute, no setAttribute
        byte[] after = t.encode(new SessionContent(attributes, null), blocks);
        assertEquals(1, blocks.written(), "only the changed attribute is serialized again");
        assertEquals(attributes.size() - 1, blocks.reused());
        assertSameContent(t.decode(t.encode(new SessionContent(attributes, null))), t.decode(after));
    }

    /** A list a parallel request changes while it is written, as often as told. */
    static final class Changing implements Serializable {
        private static final long serialVersionUID = 1L;
        transient int changesWhileWritten;
        String state = "first";

        private void writeObject(ObjectOutputStream out) throws IOException {
            if (changesWhileWritten > 0) {
                changesWhileWritten--;
                throw new java.util.ConcurrentModificationException();
            }
            out.defaultWriteObject();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void aValueChangedByAParallelRequestWhileWrittenIsNeverLeftOut(TranscoderFactory f) throws TranscoderException {
        Transcoder t = create(f);
        Changing changing = new Changing();
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("user", "alice");
        attributes.put("form", changing);
        EncodedBlocks blocks = encodedOnce(t, attributes);

        changing.state = "second";
        changing.changesWhileWritten = 2; // over after two attempts
        assertEquals("second", ((Changing) t.decode(t.encode(new SessionContent(attributes, null), blocks))
                .attributes().get("form")).state, "written again once the change was over");

        changing.state = "third";
        changing.changesWhileWritten = 100; // changing all along
        SessionContent meanwhile = t.decode(t.encode(new SessionContent(attributes, null), blocks));
        assertEquals("second", ((Changing) meanwhile.attributes().get("form")).state,
                "its last bytes stay rather than none");
        assertEquals(1, blocks.reused() + blocks.written(),
                "bytes carried over for a changing value are not what memory holds: counted neither reused nor written");
        assertEquals(1, blocks.carried(), "but counted as carried: the copy leaves nothing out");
        changing.changesWhileWritten = 100; // still changing at the next comparison (a long upload)
        assertEquals("second", ((Changing) t.decode(t.encode(new SessionContent(attributes, null), blocks))
                .attributes().get("form")).state, "and at the one after");
        changing.changesWhileWritten = 0; // the request that changed it ended: the next backup writes it
        assertEquals("third", ((Changing) t.decode(t.encode(new SessionContent(attributes, null), blocks))
                .attributes().get("form")).state);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void aDecodedSessionKeepsItsBlocksAndAChangeAfterTheDecodeIsWritten(TranscoderFactory f) throws TranscoderException {
        Transcoder t = create(f);
        byte[] stored = t.encode(new SessionContent(session(), null));
        EncodedBlocks blocks = new EncodedBlocks();
        SessionContent loaded = t.decode(stored, blocks);
        byte[] again = t.encode(loaded, blocks);
        assertEquals(loaded.attributes().size(), blocks.reused());
        assertArrayEquals(stored, again, "an unchanged session encodes to the bytes memcached holds");

        list(loaded.attributes(), "pages").add("/new");
        byte[] changed = t.encode(loaded, blocks);
        assertEquals(1, blocks.written());
        assertEquals(List.of("/a", "/b", "/new"), t.decode(changed).attributes().get("pages"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void valuesWithoutAShadowAreSerializedAtEveryEncode(TranscoderFactory f) throws TranscoderException {
        Transcoder t = create(f);
        OwnForm own = new OwnForm();
        Node cycle = new Node();
        cycle.next = cycle;
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("own", own);
        attributes.put("cycle", cycle);
        EncodedBlocks blocks = encodedOnce(t, attributes);
        own.text.append("b");
        cycle.label = "changed";
        SessionContent back = t.decode(t.encode(new SessionContent(attributes, null), blocks));
        assertEquals(2, blocks.written());
        assertEquals("ab", ((OwnForm) back.attributes().get("own")).text.toString());
        Node node = (Node) back.attributes().get("cycle");
        assertEquals("changed", node.label);
        assertEquals(node, node.next);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void aValueReplacedOrRemovedIsWrittenAsItIsNow(TranscoderFactory f) throws TranscoderException {
        Transcoder t = create(f);
        Map<String, Object> attributes = session();
        EncodedBlocks blocks = encodedOnce(t, attributes);
        attributes.put("user", new String("alice")); // equal, not the same object: written again
        attributes.remove("pages");
        attributes.put("added", 7);
        SessionContent back = t.decode(t.encode(new SessionContent(attributes, null), blocks));
        assertEquals(2, blocks.written());
        assertSameContent(new SessionContent(attributes, null), back);
        assertNull(back.attributes().get("pages"));
    }

    record User(String name) implements java.security.Principal, Serializable {
        @Override
        public String getName() {
            return name;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void aLoginAndALogoutAreWrittenThoughNoAttributeChanged(TranscoderFactory f) throws TranscoderException {
        Transcoder t = create(f);
        Map<String, Object> attributes = session();
        EncodedBlocks blocks = encodedOnce(t, attributes);
        User alice = new User("alice");
        assertEquals(alice, t.decode(t.encode(new SessionContent(attributes, alice), blocks)).principal());
        assertEquals(alice, t.decode(t.encode(new SessionContent(attributes, alice), blocks)).principal());
        assertEquals(attributes.size() + 1, blocks.reused(), "the same login again: nothing serialized");
        assertNull(t.decode(t.encode(new SessionContent(attributes, null), blocks)).principal(), "logged out");
        User bob = new User("bob");
        assertEquals(bob, t.decode(t.encode(new SessionContent(attributes, bob), blocks)).principal());
    }

    /** A login written its own way, as Tomcat's GenericPrincipal is (writeReplace): it never has a shadow. */
    static final class OwnFormUser implements java.security.Principal, Serializable {
        private static final long serialVersionUID = 1L;
        final String name;

        OwnFormUser(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        private Object writeReplace() {
            return this;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void aLogoutIsWrittenThoughTheLoginHadNoShadow(TranscoderFactory f) throws TranscoderException {
        Transcoder t = create(f);
        Map<String, Object> attributes = session();
        EncodedBlocks blocks = new EncodedBlocks();
        OwnFormUser alice = new OwnFormUser("alice");
        assertEquals("alice", t.decode(t.encode(new SessionContent(attributes, alice), blocks)).principal().getName());
        assertNull(t.decode(t.encode(new SessionContent(attributes, null), blocks)).principal(), "logged out");

        byte[] stored = t.encode(new SessionContent(attributes, alice));
        EncodedBlocks loaded = new EncodedBlocks();
        SessionContent content = t.decode(stored, loaded);
        assertNull(t.decode(t.encode(new SessionContent(content.attributes(), null), loaded)).principal(),
                "logged out after a load");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void anAttributeAddedIsWritten(TranscoderFactory f) throws TranscoderException {
        Transcoder t = create(f);
        Map<String, Object> attributes = session();
        EncodedBlocks blocks = encodedOnce(t, attributes);
        Map<String, Object> more = new LinkedHashMap<>();
        more.put("new", "one"); // first: the unchanged ones now sit at other places than in the kept bytes
        more.putAll(attributes);
        more.put("another", 2);
        SessionContent back = t.decode(t.encode(new SessionContent(more, null), blocks));
        assertEquals(2, blocks.written());
        assertSameContent(new SessionContent(more, null), back);
    }

    /** Reads back as nothing: a class whose readObject fails, as a class missing on this Tomcat would. */
    static final class Unreadable implements Serializable {
        private static final long serialVersionUID = 1L;

        private void readObject(java.io.ObjectInputStream in) throws IOException {
            throw new java.io.InvalidObjectException("not on this Tomcat");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void anAttributeDroppedAtTheLoadIsNotWrittenBackFromTheLoadedBytes(TranscoderFactory f)
            throws TranscoderException {
        Transcoder t = create(f);
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("user", "alice");
        attributes.put("gone", new Unreadable());
        byte[] stored = t.encode(new SessionContent(attributes, null));
        EncodedBlocks blocks = new EncodedBlocks();
        SessionContent loaded = t.decode(stored, blocks);
        assertEquals(Map.of("user", "alice"), loaded.attributes());
        byte[] again = t.encode(loaded, blocks);
        assertEquals(Map.of("user", "alice"), t.decode(again).attributes(), "what a full encode of the content writes");
        assertArrayEquals(t.encode(loaded), again);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("both")
    void blocksAnotherTranscoderMadeAreNotUsed(TranscoderFactory f) throws TranscoderException {
        Transcoder t = create(f);
        Transcoder other = create(f instanceof KryoTranscoderFactory ? new JavaSerializationTranscoderFactory()
                : new KryoTranscoderFactory());
        Map<String, Object> attributes = session();
        EncodedBlocks blocks = new EncodedBlocks();
        other.encode(new SessionContent(attributes, null), blocks);
        byte[] mine = t.encode(new SessionContent(attributes, null), blocks);
        assertEquals(attributes.size(), blocks.written());
        assertNotNull(t.decode(mine));
        assertSameContent(new SessionContent(attributes, null), t.decode(mine));
    }

    /** @return what a first encode of the attributes, without a login, kept */
    private static EncodedBlocks encodedOnce(Transcoder t, Map<String, Object> attributes) {
        EncodedBlocks blocks = new EncodedBlocks();
        t.encode(new SessionContent(attributes, null), blocks);
        return blocks;
    }

    private static void assertSameContent(SessionContent expected, SessionContent actual) {
        assertEquals(expected.attributes().keySet(), actual.attributes().keySet());
        for (Map.Entry<String, Object> e : expected.attributes().entrySet()) {
            Object a = actual.attributes().get(e.getKey());
            if (e.getValue() instanceof Object[]) {
                assertEquals(Arrays.deepToString((Object[]) e.getValue()), Arrays.deepToString((Object[]) a), e.getKey());
            } else {
                assertEquals(true, Objects.deepEquals(e.getValue(), a), e.getKey() + ": " + e.getValue() + " / " + a);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> list(Map<String, Object> a, String name) {
        return (List<String>) a.get(name);
    }

    @SuppressWarnings("unchecked")
    private static List<String> list(Object o) {
        return (List<String>) o;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> a, String name) {
        return (Map<String, Object>) a.get(name);
    }

    private static Bean bean(Map<String, Object> a) {
        return (Bean) a.get("bean");
    }
}

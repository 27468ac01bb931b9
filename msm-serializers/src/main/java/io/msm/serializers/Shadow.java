package io.msm.serializers;

import java.io.Externalizable;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An exact record of the state of one attribute value, far cheaper to take and to compare than
 * serializing the value, so that an unchanged value's bytes can be reused. Exact means: a shadow
 * matches a value only when every object of its graph is the same object as when the shadow was
 * taken, holding the same state (each field, element and entry). A value changed in place, read
 * through the session API or not, therefore never matches and is serialized again.
 *
 * <p>Only what this class can record exactly gets a shadow: immutable JDK values, {@link Date}, the
 * common JDK collections, arrays, and plain objects whose fields are all their serialized state (no
 * own serialization methods). Anything else, a graph deeper than {@value #MAX_DEPTH} or larger than
 * {@value #MAX_ENTRIES} entries (a cycle is always deeper), has none and is serialized at every
 * encode, as before shadows existed.
 */
final class Shadow {
    static final int MAX_DEPTH = 8;
    static final int MAX_ENTRIES = 4096;
    static final int MAX_PRIMITIVES = 1024;

    private static final Set<Class<?>> IMMUTABLE = new HashSet<>(Arrays.<Class<?>>asList(String.class,
            Boolean.class, Character.class, Byte.class, Short.class, Integer.class, Long.class, Float.class,
            Double.class, BigInteger.class, BigDecimal.class, UUID.class, Locale.class, Instant.class,
            LocalDate.class, LocalTime.class, LocalDateTime.class, OffsetDateTime.class, OffsetTime.class,
            ZonedDateTime.class, Duration.class, Period.class, Year.class, YearMonth.class, MonthDay.class));
    /** Collections whose serialized state is their elements in iteration order (and settings fixed at creation). */
    private static final Set<Class<?>> COLLECTIONS = new HashSet<>(Arrays.<Class<?>>asList(ArrayList.class,
            LinkedList.class, ArrayDeque.class, CopyOnWriteArrayList.class, HashSet.class, LinkedHashSet.class,
            TreeSet.class, HashMap.class, LinkedHashMap.class, TreeMap.class, ConcurrentHashMap.class));
    private static final String IMMUTABLE_COLLECTIONS = "java.util.ImmutableCollections$";
    private static final String ARRAYS_AS_LIST = "java.util.Arrays$ArrayList";
    private static final Field[] NOT_PLAIN = new Field[0];
    /** Declared by a class, by any of these names, it shapes its serialized form itself. */
    private static final Set<String> SERIALIZATION_METHODS = new HashSet<>(Arrays.asList("writeReplace",
            "writeObject", "readObject", "readResolve", "readObjectNoData"));
    /** The fields of plain classes, or {@link #NOT_PLAIN}; kept with each class, so no class loader is pinned. */
    private static final ClassValue<Field[]> FIELDS = new ClassValue<Field[]>() {
        @Override
        protected Field[] computeValue(Class<?> type) {
            return plainFields(type);
        }
    };

    private final Object[] trace;

    private Shadow(Object[] trace) {
        this.trace = trace;
    }

    /** @return the value's shadow, or null when it cannot be recorded exactly */
    static Shadow of(Object value) {
        Walk walk = new Walk(null);
        try {
            return walk.visit(value, 0) ? new Shadow(walk.recorded.toArray()) : null;
        } catch (RuntimeException e) {
            return null; // changed under the walk (ConcurrentModificationException), or a field not readable
        }
    }

    /** @return true when the value is in exactly the state this shadow recorded */
    boolean matches(Object value) {
        Walk walk = new Walk(trace);
        try {
            return walk.visit(value, 0) && walk.position == trace.length;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** One walk over a value's graph: records each step, or compares it with a recorded trace. */
    private static final class Walk {
        final Object[] expected;
        final List<Object> recorded;
        int position;

        Walk(Object[] expected) {
            this.expected = expected;
            this.recorded = expected == null ? new ArrayList<>() : null;
        }

        /** Identity: the same object. */
        private boolean same(Object o) {
            if (recorded != null) {
                recorded.add(o);
                return recorded.size() <= MAX_ENTRIES;
            }
            return position < expected.length && expected[position++] == o;
        }

        /** Equality, for state copied out of an object (a primitive field, a size, a time, an array's copy). */
        private boolean equal(Object state) {
            if (recorded != null) {
                recorded.add(state);
                return recorded.size() <= MAX_ENTRIES;
            }
            return position < expected.length && Objects.deepEquals(expected[position++], state);
        }

        boolean visit(Object o, int depth) {
            if (!same(o)) {
                return false;
            }
            if (o == null || o instanceof Enum || o instanceof ZoneId) {
                return true;
            }
            Class<?> type = o.getClass();
            if (IMMUTABLE.contains(type)) {
                return true;
            }
            if (depth >= MAX_DEPTH) {
                return false;
            }
            if (type == Date.class) {
                return equal(((Date) o).getTime());
            }
            if (type.isArray()) {
                return array(o, depth);
            }
            String name = type.getName();
            if (COLLECTIONS.contains(type) || name.startsWith(IMMUTABLE_COLLECTIONS) || name.equals(ARRAYS_AS_LIST)) {
                if (o instanceof Map) {
                    return map((Map<?, ?>) o, depth);
                }
                if (o instanceof Collection) {
                    return collection((Collection<?>) o, depth);
                }
                return false;
            }
            Field[] fields = FIELDS.get(type);
            if (fields == NOT_PLAIN) {
                return false;
            }
            for (Field f : fields) {
                Object v = get(f, o);
                if (f.getType().isPrimitive() ? !equal(v) : !visit(v, depth + 1)) {
                    return false;
                }
            }
            return true;
        }

        private boolean map(Map<?, ?> map, int depth) {
            if (!equal(map.size())
                    || map instanceof SortedMap && !visit(((SortedMap<?, ?>) map).comparator(), depth + 1)) {
                return false;
            }
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!visit(e.getKey(), depth + 1) || !visit(e.getValue(), depth + 1)) {
                    return false;
                }
            }
            return true;
        }

        private boolean collection(Collection<?> c, int depth) {
            if (!equal(c.size()) || c instanceof SortedSet && !visit(((SortedSet<?>) c).comparator(), depth + 1)) {
                return false;
            }
            for (Object e : c) {
                if (!visit(e, depth + 1)) {
                    return false;
                }
            }
            return true;
        }

        private boolean array(Object array, int depth) {
            if (!(array instanceof Object[])) {
                // A large blob would be held twice; it is serialized every time instead.
                return java.lang.reflect.Array.getLength(array) <= MAX_PRIMITIVES && equal(copyOf(array));
            }
            Object[] elements = (Object[]) array;
            if (!equal(elements.length)) {
                return false;
            }
            for (Object e : elements) {
                if (!visit(e, depth + 1)) {
                    return false;
                }
            }
            return true;
        }
    }

    private static Object get(Field f, Object o) {
        try {
            return f.get(o);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object copyOf(Object primitives) {
        if (primitives instanceof byte[]) {
            return ((byte[]) primitives).clone();
        } else if (primitives instanceof int[]) {
            return ((int[]) primitives).clone();
        } else if (primitives instanceof long[]) {
            return ((long[]) primitives).clone();
        } else if (primitives instanceof char[]) {
            return ((char[]) primitives).clone();
        } else if (primitives instanceof double[]) {
            return ((double[]) primitives).clone();
        } else if (primitives instanceof float[]) {
            return ((float[]) primitives).clone();
        } else if (primitives instanceof short[]) {
            return ((short[]) primitives).clone();
        }
        return ((boolean[]) primitives).clone();
    }

    /**
     * @return the fields that hold a plain class's state, readable; {@link #NOT_PLAIN} for a class whose
     *     serialized form is not simply its fields (own serialization methods, JDK internals, proxies)
     */
    private static Field[] plainFields(Class<?> type) {
        // Kryo writes collections and maps of the webapp's own by iterating them, and classes it is told
        // to by annotation its own way: their bytes are not simply their fields.
        if (type.isSynthetic() || type.isInterface() || Proxy.isProxyClass(type) || HashShapes.isJdk(type.getName())
                || Externalizable.class.isAssignableFrom(type) || Collection.class.isAssignableFrom(type)
                || Map.class.isAssignableFrom(type)
                || implementsByName(type, "com.esotericsoftware.kryo.KryoSerializable")) {
            return NOT_PLAIN;
        }
        List<Field> fields = new ArrayList<>();
        // java.lang.Record holds nothing: a record's state is its fields.
        for (Class<?> c = type; c != Object.class && !c.getName().equals("java.lang.Record"); c = c.getSuperclass()) {
            if (HashShapes.isJdk(c.getName()) || hasOwnSerialization(c) || annotatedForKryo(c)) {
                return NOT_PLAIN;
            }
            for (Field f : c.getDeclaredFields()) {
                int m = f.getModifiers();
                if (Modifier.isStatic(m) || Modifier.isTransient(m)) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                } catch (RuntimeException e) {
                    return NOT_PLAIN; // a module that does not open it
                }
                fields.add(f);
            }
        }
        return fields.toArray(new Field[0]);
    }

    private static boolean hasOwnSerialization(Class<?> c) {
        if (!Serializable.class.isAssignableFrom(c)) {
            return false; // written by Kryo's field serializer; Java serialization refuses it anyway
        }
        // Classes with any of these are written through Java serialization by the Kryo transcoder.
        for (java.lang.reflect.Method m : c.getDeclaredMethods()) {
            if (SERIALIZATION_METHODS.contains(m.getName())) {
                return true;
            }
        }
        try {
            c.getDeclaredField("serialPersistentFields");
            return true;
        } catch (NoSuchFieldException e) {
            return false;
        }
    }

    private static boolean annotatedForKryo(Class<?> c) {
        for (java.lang.annotation.Annotation a : c.getDeclaredAnnotations()) {
            if (a.annotationType().getName().startsWith("com.esotericsoftware.kryo.")) {
                return true;
            }
        }
        return false;
    }

    private static boolean implementsByName(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if (i.getName().equals(name) || implementsByName(i, name)) {
                    return true;
                }
            }
        }
        return false;
    }
}

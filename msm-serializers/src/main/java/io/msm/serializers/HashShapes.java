package io.msm.serializers;

import java.io.ObjectInput;
import java.io.ObjectInputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;

/**
 * What hashCode() of an object of a class may look at, as far as it can be known without reading
 * its code, erring towards "more": the elements of a JDK collection, the keys and values of a map
 * or entry, the elements of an object array (for {@code Arrays.deepHashCode} and its like), and the
 * fields of a webapp or library class that overrides hashCode(). A class that keeps Object's
 * identity hash, an enum, a string, a boxed primitive and the JDK's value types (dates, numbers,
 * URIs...) are leaves: hashing them costs one step.
 */
public final class HashShapes {
    /** Hashing ends here. */
    public static final int LEAF = 0;
    /** A {@link Collection}: hashCode() may visit every element. */
    public static final int ELEMENTS = 1;
    /** A {@link Map}: every key and value. */
    public static final int ENTRIES = 2;
    /** A {@link Map.Entry}: its key and value. */
    public static final int ENTRY = 4;
    /** An object array. */
    public static final int ARRAY = 8;
    /** A class of the webapp or a library that overrides hashCode(): its fields (those its own code declares). */
    public static final int FIELDS = 16;

    /** {@link #inspect}: the class was found. */
    static final int FOUND = 1;
    /** {@link #inspect}: it overrides Object.hashCode(). */
    static final int OVERRIDES_HASH_CODE = 2;
    /** {@link #inspect}: a class of its own code declares readObject, readObjectNoData, readResolve or readExternal. */
    static final int READ_METHODS = 4;

    private static final Field[] NO_FIELDS = {};

    private static final ClassValue<Integer> SHAPES = new ClassValue<Integer>() {
        @Override
        protected Integer computeValue(Class<?> type) {
            return computeShape(type);
        }
    };

    private static final ClassValue<Field[]> FIELDS_OF = new ClassValue<Field[]>() {
        @Override
        protected Field[] computeValue(Class<?> type) {
            return computeFields(type);
        }
    };

    /** Whether the collections and maps of a class rehash what they hold while they are rebuilt: 0 no, 1 all, 2 keys. */
    private static final ClassValue<Integer> HASHING = new ClassValue<Integer>() {
        @Override
        protected Integer computeValue(Class<?> type) {
            if (Set.class.isAssignableFrom(type)) {
                return SortedSet.class.isAssignableFrom(type) || EnumSet.class.isAssignableFrom(type) ? 0 : 1;
            }
            if (Map.class.isAssignableFrom(type)) {
                return SortedMap.class.isAssignableFrom(type) || EnumMap.class.isAssignableFrom(type)
                        || IdentityHashMap.class.isAssignableFrom(type) ? 0 : 2;
            }
            return 0;
        }
    };

    private HashShapes() {
    }

    /** @return the shape of objects of this class: {@link #LEAF} or a combination of the other constants */
    public static int shape(Class<?> type) {
        return SHAPES.get(type);
    }

    /**
     * @return 0 when a collection of this type does not hash what it is given, 1 when it hashes
     *     every element (sets), 2 when it hashes every other one, the keys (maps, read as key, value, key...)
     */
    public static int hashing(Class<?> type) {
        return HASHING.get(type);
    }

    /** @return the fields hashCode() of a {@link #FIELDS} class may read, accessible */
    public static Field[] fields(Class<?> type) {
        return FIELDS_OF.get(type);
    }

    /** @return true for the JDK's own classes, whose private fields Java 17 keeps closed */
    public static boolean isJdk(String name) {
        return name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jdk.")
                || name.startsWith("sun.") || name.startsWith("com.sun.");
    }

    private static int computeShape(Class<?> type) {
        if (type.isArray()) {
            return type.getComponentType().isPrimitive() ? LEAF : ARRAY;
        }
        if (type.isPrimitive() || type == String.class || type == Class.class || Enum.class.isAssignableFrom(type)
                || Number.class.isAssignableFrom(type) && isJdk(type.getName()) || type == Boolean.class
                || type == Character.class) {
            return LEAF;
        }
        boolean jdk = isJdk(type.getName());
        if (!jdk && !overridesHashCode(type)) {
            return LEAF; // identity hash
        }
        int shape = LEAF;
        if (Collection.class.isAssignableFrom(type)) {
            shape = ELEMENTS;
        } else if (Map.class.isAssignableFrom(type)) {
            shape = ENTRIES;
        } else if (Map.Entry.class.isAssignableFrom(type)) {
            shape = ENTRY;
        }
        if (!jdk && fields(type).length > 0) {
            shape |= FIELDS;
        }
        return shape;
    }

    static boolean overridesHashCode(Class<?> type) {
        try {
            return type.getMethod("hashCode").getDeclaringClass() != Object.class;
        } catch (NoSuchMethodException | RuntimeException | LinkageError e) {
            return true;
        }
    }

    private static Field[] computeFields(Class<?> type) {
        List<Field> fields = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            if (isJdk(c.getName())) {
                continue; // closed on Java 17; the JDK's collections are visited through their API
            }
            Field[] declared;
            try {
                declared = c.getDeclaredFields();
            } catch (RuntimeException | LinkageError e) {
                continue;
            }
            for (Field f : declared) {
                if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    fields.add(f);
                } catch (RuntimeException e) {
                    // a module that does not open it: not followed
                }
            }
        }
        return fields.isEmpty() ? NO_FIELDS : fields.toArray(new Field[0]);
    }

    /**
     * Loads a class named in a stream, without initializing it, to see how hashCode() and reading
     * treat it. The caller has had the name checked by the serialFilter first.
     *
     * @return {@link #FOUND}, {@link #OVERRIDES_HASH_CODE}, {@link #READ_METHODS} combined, 0 when it cannot be loaded
     */
    static int inspect(String name, ClassLoader loader) {
        Class<?> type;
        try {
            type = Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
            return 0;
        }
        int flags = FOUND;
        if (overridesHashCode(type)) {
            flags |= OVERRIDES_HASH_CODE;
        }
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            if (!isJdk(c.getName()) && declaresReadMethod(c)) {
                flags |= READ_METHODS;
                break;
            }
        }
        return flags;
    }

    private static boolean declaresReadMethod(Class<?> c) {
        return declares(c, "readObject", ObjectInputStream.class) || declares(c, "readObjectNoData")
                || declares(c, "readResolve") || declares(c, "readExternal", ObjectInput.class);
    }

    private static boolean declares(Class<?> c, String name, Class<?>... parameters) {
        try {
            c.getDeclaredMethod(name, parameters);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        } catch (RuntimeException | LinkageError e) {
            return true;
        }
    }
}

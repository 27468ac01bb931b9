package io.msm.serializers.kryo;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.util.MapReferenceResolver;

import io.msm.serializers.DecodeGuard;
import io.msm.serializers.HashShapes;
import io.msm.serializers.RejectedContentException;

/**
 * Kryo with a {@link DecodeGuard} watching every read: each object or reference counts towards
 * {@code maxrefs} and the deadline, and each key or element that a set or map is about to hash
 * again (a child read at the depth of a set, every other child of a map: keys and values come in
 * turn) has its hashing cost bounded and charged first. Kryo's own serializers and msm's put what
 * they read into the collection right after reading it, so the check comes before the hashing.
 */
final class SessionKryo extends Kryo {
    private final Rejections rejections;
    private DecodeGuard guard;
    /** The next {@link #readClass} reads the class of an object {@link #readClassAndObject} is reading. */
    private boolean objectClass;
    // The hash-based collections being read: Kryo depth, mode (1 all, 2 keys), children so far.
    private int[] hashDepth = new int[8];
    private int[] hashMode = new int[8];
    private int[] hashChildren = new int[8];
    private Class<?>[] hashType = new Class<?>[8];
    private int hashTop = -1;

    SessionKryo(FilteringClassResolver resolver, Rejections rejections) {
        super(resolver, new MapReferenceResolver());
        this.rejections = rejections;
    }

    /** Watches the reads from now on, for one value. */
    void beginRead(DecodeGuard g) {
        this.guard = g;
        this.hashTop = -1;
        this.objectClass = false;
    }

    void endRead() {
        this.guard = null;
        Arrays.fill(hashType, null);
        this.hashTop = -1;
    }

    /** @return the guard of the read in progress, or null */
    DecodeGuard guard() {
        return guard;
    }

    @Override
    public Registration readClass(Input input) {
        Registration registration = super.readClass(input);
        if (objectClass) {
            objectClass = false;
            if (registration != null) {
                opened(registration.getType(), getDepth());
            }
        }
        return registration;
    }

    @Override
    public Object readClassAndObject(Input input) {
        if (guard == null) {
            return super.readClassAndObject(input);
        }
        counted();
        objectClass = true;
        return closed(super.readClassAndObject(input));
    }

    @Override
    public <T> T readObject(Input input, Class<T> type) {
        if (guard == null) {
            return super.readObject(input, type);
        }
        counted();
        opened(type, getDepth() + 1);
        return closed(super.readObject(input, type));
    }

    @Override
    public <T> T readObject(Input input, Class<T> type, @SuppressWarnings("rawtypes") Serializer serializer) {
        if (guard == null) {
            return super.readObject(input, type, serializer);
        }
        counted();
        opened(type, getDepth() + 1);
        return closed(super.readObject(input, type, serializer));
    }

    @Override
    public <T> T readObjectOrNull(Input input, Class<T> type) {
        if (guard == null) {
            return super.readObjectOrNull(input, type);
        }
        counted();
        opened(type, getDepth() + 1);
        return closed(super.readObjectOrNull(input, type));
    }

    @Override
    public <T> T readObjectOrNull(Input input, Class<T> type, @SuppressWarnings("rawtypes") Serializer serializer) {
        if (guard == null) {
            return super.readObjectOrNull(input, type, serializer);
        }
        counted();
        opened(type, getDepth() + 1);
        return closed(super.readObjectOrNull(input, type, serializer));
    }

    private void counted() {
        try {
            guard.countRefs(1);
        } catch (RejectedContentException e) {
            throw rejections.record(e);
        }
    }

    /** An object of {@code type} is being read at Kryo depth {@code depth}: a set or map hashes its children. */
    private void opened(Class<?> type, int depth) {
        if (!Set.class.isAssignableFrom(type) && !Map.class.isAssignableFrom(type)) {
            return; // cheaper than the lookup below, for the many objects that are neither
        }
        int mode = HashShapes.hashing(type);
        if (mode == 0) {
            return;
        }
        if (++hashTop == hashDepth.length) {
            int size = hashTop * 2;
            hashDepth = Arrays.copyOf(hashDepth, size);
            hashMode = Arrays.copyOf(hashMode, size);
            hashChildren = Arrays.copyOf(hashChildren, size);
            hashType = Arrays.copyOf(hashType, size);
        }
        hashDepth[hashTop] = depth;
        hashMode[hashTop] = mode;
        hashChildren[hashTop] = 0;
        hashType[hashTop] = type;
    }

    /** A read returned {@code value} at the current depth: if a set or map is reading it, it is about to be hashed. */
    private <T> T closed(T value) {
        int depth = getDepth();
        while (hashTop >= 0 && hashDepth[hashTop] > depth) {
            hashType[hashTop--] = null; // that collection is read
        }
        if (hashTop >= 0 && hashDepth[hashTop] == depth) {
            int child = hashChildren[hashTop]++;
            if (hashMode[hashTop] == 1 || (child & 1) == 0) {
                try {
                    guard.hashing(value, hashType[hashTop]);
                } catch (RejectedContentException e) {
                    throw rejections.record(e);
                }
            }
        }
        return value;
    }
}

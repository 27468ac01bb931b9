package io.msm.serializers.kryo;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.LinkedBlockingQueue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.CollectionSerializer;

/**
 * JDK collections that Kryo's generic CollectionSerializer and MapSerializer would rebuild wrong:
 * they make a fresh instance (no-argument constructor, or none at all through objenesis) and add
 * the elements, losing whatever else the original held.
 */
@SuppressWarnings({"rawtypes", "unchecked"})
final class JdkCollectionSerializers {
    private JdkCollectionSerializers() {
    }

    static void register(Kryo kryo, Serializer<Object> javaBridge) {
        // State beside the elements that only the JDK's own serialization reaches on Java 17 without
        // --add-opens: the defaults of a Properties, the element type of a checked view (all of them
        // extend CheckedCollection or CheckedMap), the capacity of a blocking queue.
        kryo.addDefaultSerializer(Properties.class, javaBridge);
        kryo.addDefaultSerializer(Collections.checkedCollection(new ArrayList<>(), Object.class).getClass(),
                javaBridge);
        kryo.addDefaultSerializer(Collections.checkedMap(new HashMap<>(), Object.class, Object.class).getClass(),
                javaBridge);
        kryo.addDefaultSerializer(ArrayBlockingQueue.class, javaBridge);
        kryo.addDefaultSerializer(LinkedBlockingQueue.class, javaBridge);
        kryo.addDefaultSerializer(LinkedBlockingDeque.class, javaBridge);
        kryo.addDefaultSerializer(ConcurrentSkipListSet.class, new ConcurrentSkipListSetSerializer());
        kryo.addDefaultSerializer(Collections.nCopies(0, null).getClass(), new CopiesSerializer());
        if (MapEntrySerializer.ENTRY != null) {
            kryo.addDefaultSerializer(MapEntrySerializer.entry("k", "v").getClass(), new MapEntrySerializer());
        }
    }

    /** With its comparator, as Kryo's own TreeSetSerializer does for TreeSet. */
    static final class ConcurrentSkipListSetSerializer extends CollectionSerializer<ConcurrentSkipListSet> {
        @Override
        protected void writeHeader(Kryo kryo, Output output, ConcurrentSkipListSet set) {
            kryo.writeClassAndObject(output, set.comparator());
        }

        @Override
        protected ConcurrentSkipListSet create(Kryo kryo, Input input, Class<? extends ConcurrentSkipListSet> type,
                int size) {
            Comparator comparator = (Comparator) kryo.readClassAndObject(input);
            if (type == ConcurrentSkipListSet.class) {
                return new ConcurrentSkipListSet(comparator);
            }
            try { // a webapp's subclass: through its comparator constructor, as Kryo does for TreeSet
                return type.getConstructor(Comparator.class).newInstance(comparator);
            } catch (ReflectiveOperationException e) {
                throw new KryoException(type.getName() + " has no public constructor taking a Comparator", e);
            }
        }
    }

    /** {@code Collections.nCopies}: the count and the one element; nothing is allocated for the count. */
    static final class CopiesSerializer extends Serializer<List<Object>> {
        @Override
        public void write(Kryo kryo, Output output, List<Object> copies) {
            if (output instanceof LimitedOutput) {
                ((LimitedOutput) output).checkElements(copies.size()); // the reader would refuse it
            }
            output.writeVarInt(copies.size(), true);
            kryo.writeClassAndObject(output, copies.isEmpty() ? null : copies.get(0));
        }

        @Override
        public List<Object> read(Kryo kryo, Input input, Class<? extends List<Object>> type) {
            int n = input.readVarInt(true);
            if (input instanceof LimitedInput) {
                // Against maxarray only: one stored element stands for all n, so the bytes left say nothing.
                ((LimitedInput) input).checkElements(n);
            }
            return Collections.nCopies(n, kryo.readClassAndObject(input));
        }
    }

    /**
     * {@code Map.entry} (Java 9 and later, reached through a method handle from Java 8 code): not
     * serializable, so Java serialization cannot store it at all; its fields are closed to Kryo.
     */
    static final class MapEntrySerializer extends Serializer<Map.Entry<Object, Object>> {
        static final MethodHandle ENTRY = entryHandle();

        private static MethodHandle entryHandle() {
            try {
                return MethodHandles.publicLookup().findStatic(Map.class, "entry",
                        MethodType.methodType(Map.Entry.class, Object.class, Object.class));
            } catch (ReflectiveOperationException e) {
                return null; // Java 8
            }
        }

        static Map.Entry<Object, Object> entry(Object key, Object value) {
            try {
                return (Map.Entry<Object, Object>) ENTRY.invoke(key, value);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void write(Kryo kryo, Output output, Map.Entry<Object, Object> e) {
            kryo.writeClassAndObject(output, e.getKey());
            kryo.writeClassAndObject(output, e.getValue());
        }

        @Override
        public Map.Entry<Object, Object> read(Kryo kryo, Input input, Class<? extends Map.Entry<Object, Object>> type) {
            Object key = kryo.readClassAndObject(input);
            return entry(key, kryo.readClassAndObject(input));
        }
    }
}

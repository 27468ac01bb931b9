package io.msm.serializers.kryo;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoSerializable;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.SerializerFactory.BaseSerializerFactory;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.serializers.DefaultArraySerializers.ObjectArraySerializer;
import com.esotericsoftware.kryo.serializers.DefaultArraySerializers.StringArraySerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.ArraysAsListSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.KryoSerializableSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.PriorityQueueSerializer;
import com.esotericsoftware.kryo.serializers.MapSerializer;

/**
 * Kryo's serializers for object arrays and for the collections whose serializer allocates room for
 * the announced size, with that size checked first (see {@link LimitedInput}; primitive arrays and strings are checked
 * there).
 */
@SuppressWarnings({"rawtypes", "unchecked"})
final class CheckedSerializers {
    private CheckedSerializers() {
    }

    static void register(Kryo kryo) {
        kryo.addDefaultSerializer(Object[].class, new BaseSerializerFactory<Serializer>() {
            @Override
            public Serializer newSerializer(Kryo k, Class type) {
                return new CheckedObjectArraySerializer(k, type);
            }
        });
        kryo.addDefaultSerializer(String[].class, new CheckedStringArraySerializer());
        kryo.addDefaultSerializer(Arrays.asList().getClass(), new CheckedArraysAsListSerializer());
        kryo.addDefaultSerializer(PriorityQueue.class, new CheckedPriorityQueueSerializer());
        if (ImmutableListSerializer.LIST_OF != null) {
            ImmutableListSerializer immutable = new ImmutableListSerializer();
            for (Object[] sample : new Object[][] {{}, {1}, {1, 2, 3, 4}}) {
                kryo.addDefaultSerializer(ImmutableListSerializer.listOf(sample).getClass(), immutable);
            }
            kryo.addDefaultSerializer(ImmutableListSerializer.listOf(new Object[] {1, 2, 3, 4}).subList(0, 2)
                    .getClass(), immutable);
        }
        // Kryo sizes these three by the number it reads (a HashSet or HashMap's table on its first
        // insert: up to 2^30 entries for a 15-byte frame); its other collections and maps allocate
        // nothing for it.
        kryo.addDefaultSerializer(ArrayList.class, new BaseSerializerFactory<Serializer>() {
            @Override
            public Serializer newSerializer(Kryo k, Class type) {
                return new CheckedCollectionSerializer();
            }
        });
        // A subclass that writes itself (KryoSerializable) keeps doing so: its stored bytes are its own.
        kryo.addDefaultSerializer(HashSet.class, new BaseSerializerFactory<Serializer>() {
            @Override
            public Serializer newSerializer(Kryo k, Class type) {
                return KryoSerializable.class.isAssignableFrom(type) ? new KryoSerializableSerializer()
                        : new CheckedCollectionSerializer();
            }
        });
        kryo.addDefaultSerializer(HashMap.class, new BaseSerializerFactory<Serializer>() {
            @Override
            public Serializer newSerializer(Kryo k, Class type) {
                return KryoSerializable.class.isAssignableFrom(type) ? new KryoSerializableSerializer()
                        : new CheckedMapSerializer();
            }
        });
    }

    static void check(Input input, long size) {
        if (input instanceof LimitedInput) {
            ((LimitedInput) input).checkLength(size);
        }
    }

    static void checkNext(Input input) {
        if (input instanceof LimitedInput) {
            ((LimitedInput) input).checkNextLength(1);
        }
    }

    static final class CheckedCollectionSerializer extends CollectionSerializer<Collection> {
        @Override
        protected Collection create(Kryo kryo, Input input, Class<? extends Collection> type, int size) {
            check(input, size);
            return super.create(kryo, input, type, size);
        }
    }

    static final class CheckedMapSerializer extends MapSerializer<Map> {
        @Override
        protected Map create(Kryo kryo, Input input, Class<? extends Map> type, int size) {
            check(input, size);
            return super.create(kryo, input, type, size);
        }
    }

    static final class CheckedObjectArraySerializer extends ObjectArraySerializer {
        CheckedObjectArraySerializer(Kryo kryo, Class type) {
            super(kryo, type);
        }

        @Override
        public Object[] read(Kryo kryo, Input input, Class type) {
            checkNext(input);
            return super.read(kryo, input, type);
        }
    }

    static final class CheckedStringArraySerializer extends StringArraySerializer {
        @Override
        public String[] read(Kryo kryo, Input input, Class type) {
            checkNext(input);
            return super.read(kryo, input, type);
        }
    }

    static final class CheckedArraysAsListSerializer extends ArraysAsListSerializer {
        @Override
        protected List create(Kryo kryo, Input input, Class type, int size) {
            check(input, size);
            return super.create(kryo, input, type, size);
        }
    }

    static final class CheckedPriorityQueueSerializer extends PriorityQueueSerializer {
        @Override
        protected PriorityQueue create(Kryo kryo, Input input, Class<? extends PriorityQueue> type, int size) {
            check(input, size);
            return super.create(kryo, input, type, size);
        }
    }

    /** {@code List.of(...)} lists (Java 9 and later, reached through a method handle from Java 8 code). */
    static final class ImmutableListSerializer extends CollectionSerializer<List<Object>> {
        static final MethodHandle LIST_OF = listOfHandle();

        ImmutableListSerializer() {
            setElementsCanBeNull(false);
        }

        private static MethodHandle listOfHandle() {
            try {
                return MethodHandles.publicLookup().findStatic(List.class, "of",
                        MethodType.methodType(List.class, Object[].class));
            } catch (ReflectiveOperationException e) {
                return null; // Java 8
            }
        }

        static List<Object> listOf(Object[] elements) {
            try {
                return (List<Object>) LIST_OF.invoke(elements);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        protected List<Object> create(Kryo kryo, Input input, Class<? extends List<Object>> type, int size) {
            check(input, size);
            return new ArrayList<>(size);
        }

        @Override
        public List<Object> read(Kryo kryo, Input input, Class<? extends List<Object>> type) {
            List<Object> list = super.read(kryo, input, type);
            return list == null ? null : listOf(list.toArray());
        }
    }
}

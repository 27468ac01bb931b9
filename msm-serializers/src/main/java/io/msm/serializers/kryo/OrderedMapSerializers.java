package io.msm.serializers.kryo;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.MapSerializer;

/**
 * Maps whose shape lives in a private JDK field that Kryo cannot read on Java 17: the access order
 * of a {@link LinkedHashMap} and the key type of an {@link EnumMap}. Both are found through the
 * public API instead.
 */
@SuppressWarnings({"rawtypes", "unchecked"})
final class OrderedMapSerializers {
    private OrderedMapSerializers() {
    }

    static void register(Kryo kryo, Serializer<Object> javaBridge) {
        kryo.addDefaultSerializer(LinkedHashMap.class, new LinkedHashMapSerializer());
        kryo.addDefaultSerializer(EnumMap.class, new EnumMapSerializer(javaBridge));
    }

    /** Writes whether the map is in access order (an LRU map) before its entries. */
    static final class LinkedHashMapSerializer extends MapSerializer<LinkedHashMap> {
        @Override
        protected void writeHeader(Kryo kryo, Output output, LinkedHashMap map) {
            output.writeBoolean(map.getClass() == LinkedHashMap.class && accessOrder(map));
        }

        @Override
        protected LinkedHashMap create(Kryo kryo, Input input, Class<? extends LinkedHashMap> type, int size) {
            boolean accessOrder = input.readBoolean();
            if (type == LinkedHashMap.class) {
                return new LinkedHashMap(16, 0.75f, accessOrder);
            }
            return kryo.newInstance(type);
        }

        /** Asks a private copy: after reading its first key, does that key move to the end? */
        static boolean accessOrder(LinkedHashMap<?, ?> map) {
            LinkedHashMap<Object, Object> probe = (LinkedHashMap<Object, Object>) map.clone();
            probe.clear();
            Object first = new Object();
            Object second = new Object();
            probe.put(first, first);
            probe.put(second, second);
            probe.get(first);
            return probe.keySet().iterator().next() == second;
        }
    }

    /**
     * Writes the key type, taken from the first key; an empty EnumMap does not tell its key type
     * through its API, so it goes through Java serialization (a few dozen bytes).
     */
    static final class EnumMapSerializer extends Serializer<EnumMap> {
        private final Serializer<Object> javaBridge;

        EnumMapSerializer(Serializer<Object> javaBridge) {
            this.javaBridge = javaBridge;
        }

        @Override
        public void write(Kryo kryo, Output output, EnumMap map) {
            if (map.isEmpty()) {
                output.writeBoolean(false);
                javaBridge.write(kryo, output, map);
                return;
            }
            output.writeBoolean(true);
            Class<?> keyType = ((Enum<?>) map.keySet().iterator().next()).getDeclaringClass();
            kryo.writeClass(output, keyType);
            output.writeVarInt(map.size(), true);
            for (Map.Entry<?, ?> e : ((Map<?, ?>) map).entrySet()) {
                output.writeVarInt(((Enum<?>) e.getKey()).ordinal(), true);
                kryo.writeClassAndObject(output, e.getValue());
            }
        }

        @Override
        public EnumMap read(Kryo kryo, Input input, Class<? extends EnumMap> type) {
            if (!input.readBoolean()) {
                EnumMap map = (EnumMap) javaBridge.read(kryo, input, EnumMap.class);
                kryo.reference(map);
                return map;
            }
            Class keyType = kryo.readClass(input).getType();
            Object[] constants = keyType.getEnumConstants();
            if (constants == null) {
                throw new IllegalArgumentException(keyType.getName() + " is not an enum");
            }
            EnumMap map = new EnumMap(keyType);
            kryo.reference(map);
            int size = input.readVarInt(true);
            CheckedSerializers.check(input, size);
            for (int i = 0; i < size; i++) {
                int ordinal = input.readVarInt(true);
                if (ordinal >= constants.length) {
                    throw new IllegalArgumentException("enum " + keyType.getName() + " has no constant " + ordinal);
                }
                map.put(constants[ordinal], kryo.readClassAndObject(input));
            }
            return map;
        }
    }
}

package io.msm.serializers.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.CompatibleFieldSerializer;

/**
 * Kryo's CompatibleFieldSerializer, with the count of field names that opens an object's first
 * occurrence checked before Kryo allocates for it: taken from the bytes as it was, a forged count
 * made one session's decode allocate gigabytes, or throw OutOfMemoryError.
 */
final class CheckedFieldSerializer<T> extends CompatibleFieldSerializer<T> {
    CheckedFieldSerializer(Kryo kryo, Class<T> type, CompatibleFieldSerializerConfig config) {
        super(kryo, type, config);
    }

    @Override
    public T read(Kryo kryo, Input input, Class<? extends T> type) {
        // Kryo reads the field names once per graph, right here (its create() reads nothing), and keeps
        // them under this serializer; each name takes one byte at least. Not against maxarray: a class
        // with more fields than that is written without complaint, and must read back.
        if (input instanceof LimitedInput && kryo.getGraphContext().get(this) == null) {
            ((LimitedInput) input).checkNextCount("the field names of " + type.getName());
        }
        return super.read(kryo, input, type);
    }
}

package io.msm.serializers.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

import io.msm.serializers.RejectedContentException;
import io.msm.serializers.SerialFilter;

/**
 * For a class Kryo writes as a registered number, not a name, but that the filter may refuse: the
 * number never reaches the class resolver's check, so the serializer asks the filter before it
 * writes or reads an object. Used for {@code java.net.URL}, registered when the default lists
 * allowed it, whose number older sessions hold.
 */
final class FilteredRegistrationSerializer<T> extends Serializer<T> {
    private final Class<T> type;
    private final Serializer<T> serializer;
    private final SerialFilter filter;
    private final Rejections rejections;

    FilteredRegistrationSerializer(Class<T> type, Serializer<T> serializer, SerialFilter filter,
            Rejections rejections) {
        this.type = type;
        this.serializer = serializer;
        this.filter = filter;
        this.rejections = rejections;
    }

    @Override
    public void write(Kryo kryo, Output output, T object) {
        filter.check(type); // refused: the attribute is left out
        serializer.write(kryo, output, object);
    }

    @Override
    public T read(Kryo kryo, Input input, Class<? extends T> actual) {
        try {
            filter.check(type);
        } catch (RejectedContentException e) {
            throw rejections.record(e); // the whole session is discarded, as for a refused name
        }
        return serializer.read(kryo, input, actual);
    }
}

package io.msm.serializers.kryo;

import java.io.Serializable;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

import io.msm.serializers.HashShapes;
import io.msm.serializers.RejectedContentException;
import io.msm.serializers.SerialFilter;

/**
 * For a JDK class that is not Serializable and that Kryo has no serializer of its own for. The
 * filter's JDK allow list names packages ({@code java.util.*}) for Java serialization, which reads
 * only Serializable classes; Kryo would build any of them field by field, running its no-argument
 * constructor: planted bytes naming {@code java.util.Timer} started a thread at every read. Such an
 * object is neither written (its attribute is left out) nor built; the class itself, as a
 * {@code Class} value, still is.
 */
final class RefusedJdkClassSerializer extends Serializer<Object> {
    private final String className;
    private final Rejections rejections;

    RefusedJdkClassSerializer(Class<?> type, Rejections rejections) {
        this.className = type.getName();
        this.rejections = rejections;
    }

    /**
     * @return true for a class whose objects Java serialization could not store either, unless the
     *     operator's {@code serialFilter} names it exactly (a webapp on Java 8 that keeps such objects
     *     in a bean names each such class the object holds)
     */
    static boolean isRefused(Class<?> type, SerialFilter filter) {
        return !type.isArray() && !type.isPrimitive() && type != Object.class
                && !Serializable.class.isAssignableFrom(type)
                && HashShapes.isJdk(type.getName()) && !filter.namesExactly(type.getName());
    }

    @Override
    public void write(Kryo kryo, Output output, Object object) {
        throw refusal();
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<?> type) {
        throw rejections.record(refusal());
    }

    private RejectedContentException refusal() {
        return new RejectedContentException("class " + className + " is not Serializable: Kryo would build it with"
                + " its constructor, which msm does not do for JDK classes unless " + SerialFilter.ATTRIBUTE
                + " names the class exactly");
    }
}

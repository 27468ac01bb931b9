package io.msm.serializers.kryo;

import java.io.IOException;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

import io.msm.serializers.DecodeGuard;
import io.msm.serializers.JavaSerialization;
import io.msm.serializers.RejectedContentException;

/**
 * Java serialization of one object inside a Kryo stream, for classes that Kryo's field serializer
 * would get wrong (their own writeObject/readObject/writeReplace/readResolve) or cannot reach on
 * Java 17 (JDK classes with private fields). Unlike Kryo's own JavaSerializer, the bytes are read
 * back through {@link JavaSerialization}, so the serialFilter sees every class name first.
 */
final class JavaBridgeSerializer extends Serializer<Object> {
    private final JavaSerialization java;
    private final Rejections rejections;

    JavaBridgeSerializer(JavaSerialization java, Rejections rejections) {
        this.java = java;
        this.rejections = rejections;
    }

    @Override
    public void write(Kryo kryo, Output output, Object object) {
        try {
            byte[] bytes = java.serialize(object);
            java.checkReadable(bytes, 0, bytes.length); // as its reader will: the nested stream's depth and hashing
            output.writeVarInt(bytes.length, true);
            output.writeBytes(bytes);
        } catch (IOException e) {
            throw new KryoException("Java serialization of " + object.getClass().getName() + " failed: " + e, e);
        }
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<? extends Object> type) {
        int length = input.readVarInt(true);
        byte[] bytes = input.readBytes(length);
        try {
            // Inside a Kryo read, the Java stream counts towards the same session's limits.
            DecodeGuard guard = kryo instanceof SessionKryo ? ((SessionKryo) kryo).guard() : null;
            return guard != null ? java.deserialize(bytes, 0, length, guard) : java.deserialize(bytes, 0, length);
        } catch (IOException | ClassNotFoundException e) {
            RejectedContentException rejected = RejectedContentException.in(e);
            if (rejected != null) {
                throw rejections.record(rejected);
            }
            throw new KryoException("Java deserialization of " + type.getName() + " failed: " + e, e);
        }
    }
}

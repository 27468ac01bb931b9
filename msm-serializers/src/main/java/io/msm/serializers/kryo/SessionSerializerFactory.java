package io.msm.serializers.kryo;

import java.io.Externalizable;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.SerializerFactory;
import com.esotericsoftware.kryo.serializers.CompatibleFieldSerializer.CompatibleFieldSerializerConfig;

import io.msm.serializers.HashShapes;
import io.msm.serializers.SerialFilter;

/**
 * Chooses the serializer for a class no registered serializer covers. Webapp classes get Kryo's
 * CompatibleFieldSerializer: fields are stored by name, so a redeploy that added or removed a field
 * still reads old sessions (added fields keep their default, removed ones are skipped). Serializable classes that Kryo's field copy would get wrong go through
 * {@link JavaBridgeSerializer}: those with their own serialization methods, Externalizable ones,
 * and those whose state sits in JDK classes, whose private fields Java 17 does not open. JDK classes
 * that are not Serializable are refused ({@link RefusedJdkClassSerializer}).
 */
final class SessionSerializerFactory implements SerializerFactory<Serializer> {
    private final Serializer<Object> javaBridge;
    private final SerialFilter filter;
    private final Rejections rejections;
    private final CompatibleFieldSerializerConfig fields;

    SessionSerializerFactory(Serializer<Object> javaBridge, SerialFilter filter, Rejections rejections) {
        this.javaBridge = javaBridge;
        this.filter = filter;
        this.rejections = rejections;
        CompatibleFieldSerializerConfig config = new CompatibleFieldSerializerConfig();
        // Each field value is written with its class, so a removed field is read and skipped and a
        // field whose type changed is noticed. Without chunked encoding (a third slower) data that
        // cannot be read at all fails the attribute, which is then dropped with one log line.
        config.setChunkedEncoding(false);
        config.setReadUnknownFieldData(true);
        // Inner and anonymous classes keep their outer instance and captured variables in synthetic fields.
        config.setIgnoreSyntheticFields(false);
        this.fields = config;
    }

    @Override
    public Serializer newSerializer(Kryo kryo, Class type) {
        if (RefusedJdkClassSerializer.isRefused(type, filter)) {
            return new RefusedJdkClassSerializer(type, rejections);
        }
        return needsJavaSerialization(type) ? javaBridge : checked(kryo, type);
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private Serializer checked(Kryo kryo, Class type) {
        return new CheckedFieldSerializer(kryo, type, fields.clone());
    }

    @Override
    public boolean isSupported(Class type) {
        return true;
    }

    static boolean needsJavaSerialization(Class<?> type) {
        if (!Serializable.class.isAssignableFrom(type) || type.isArray() || type.isEnum()) {
            return false;
        }
        if (Externalizable.class.isAssignableFrom(type)) {
            return true;
        }
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            if (HashShapes.isJdk(c.getName()) && (c == type || hasInstanceFields(c)) || hasSerializationMethods(c)) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasInstanceFields(Class<?> c) {
        for (Field f : c.getDeclaredFields()) {
            if (!Modifier.isStatic(f.getModifiers())) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasSerializationMethods(Class<?> c) {
        return declares(c, "writeObject", ObjectOutputStream.class) || declares(c, "readObject", ObjectInputStream.class)
                || declares(c, "writeReplace") || declares(c, "readResolve");
    }

    private static boolean declares(Class<?> c, String name, Class<?>... parameters) {
        try {
            c.getDeclaredMethod(name, parameters);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}

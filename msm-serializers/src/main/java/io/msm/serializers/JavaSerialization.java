package io.msm.serializers;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.ObjectStreamException;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

/**
 * The JDK's serialization of one object, read back through the webapp's class loader with
 * {@link SerialFilter} checking every class name before it is loaded, and its limits on depth and
 * array length applied through the JDK's stream filter.
 */
public final class JavaSerialization {
    private static final Map<String, Class<?>> PRIMITIVES = new HashMap<>();

    static {
        for (Class<?> c : new Class<?>[] {boolean.class, byte.class, char.class, short.class, int.class,
            long.class, float.class, double.class, void.class}) {
            PRIMITIVES.put(c.getName(), c);
        }
    }

    private final ClassLoader loader;
    private final SerialFilter filter;
    private final Object streamFilter;

    public JavaSerialization(ClassLoader loader, SerialFilter filter) {
        this.loader = loader;
        this.filter = filter;
        this.streamFilter = StreamLimits.create(filter);
    }

    /**
     * @throws RejectedContentException when the value holds a class the filter refuses: such bytes
     *     could never be read back, so they are not written
     */
    public byte[] serialize(Object value) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        serialize(value, bytes);
        return bytes.toByteArray();
    }

    /** Writes the value's stream to {@code out}, which stays open. */
    public void serialize(Object value, OutputStream out) throws IOException {
        ObjectOutputStream stream = new FilteredObjectOutputStream(out);
        stream.writeObject(value);
        stream.flush();
    }

    /** Refuses to write a class that the filter would refuse to read. */
    private final class FilteredObjectOutputStream extends ObjectOutputStream {
        FilteredObjectOutputStream(OutputStream out) throws IOException {
            super(out);
        }

        @Override
        protected void annotateClass(Class<?> cl) {
            if (!ObjectStreamException.class.isAssignableFrom(cl)) { // the stream records its own failure
                filter.check(cl);
            }
        }

        @Override
        protected void annotateProxyClass(Class<?> cl) {
            filter.check(Proxy.class);
            for (Class<?> i : cl.getInterfaces()) {
                filter.check(i);
            }
        }
    }

    /**
     * @throws RejectedContentException when a class or limit is refused (possibly as a cause)
     * @throws IOException, ClassNotFoundException when the bytes cannot be read back
     */
    public Object deserialize(byte[] bytes, int offset, int length) throws IOException, ClassNotFoundException {
        try (ObjectInputStream in = new FilteredObjectInputStream(new ByteArrayInputStream(bytes, offset, length))) {
            StreamLimits.install(in, streamFilter);
            return in.readObject();
        }
    }

    /** Resolves classes through the webapp's class loader only, after the filter has seen their names. */
    private final class FilteredObjectInputStream extends ObjectInputStream {
        FilteredObjectInputStream(InputStream in) throws IOException {
            super(in);
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            String name = desc.getName();
            check(name);
            try {
                return Class.forName(name, false, loader);
            } catch (ClassNotFoundException e) {
                Class<?> primitive = PRIMITIVES.get(name);
                if (primitive == null) {
                    throw e;
                }
                return primitive;
            }
        }

        @Override
        @SuppressWarnings("deprecation")
        protected Class<?> resolveProxyClass(String[] interfaces) throws IOException, ClassNotFoundException {
            check(Proxy.class.getName());
            Class<?>[] resolved = new Class<?>[interfaces.length];
            for (int i = 0; i < interfaces.length; i++) {
                check(interfaces[i]);
                resolved[i] = Class.forName(interfaces[i], false, loader);
            }
            return Proxy.getProxyClass(loader, resolved);
        }

        private void check(String name) throws InvalidClassException {
            try {
                filter.check(name);
            } catch (RejectedContentException e) {
                InvalidClassException refused = new InvalidClassException(name, e.getMessage());
                refused.initCause(e);
                throw refused;
            }
        }
    }
}

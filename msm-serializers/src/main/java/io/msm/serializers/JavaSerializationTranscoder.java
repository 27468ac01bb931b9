package io.msm.serializers;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.lang.reflect.Proxy;
import java.security.Principal;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderException;

/**
 * Java serialization, one attribute at a time: an attribute that cannot be written is named in
 * the log once and left out, one that cannot be read back is dropped, and the rest of the session
 * survives either way.
 *
 * <pre>
 * format 1 | principal length 4 (-1 = none) + bytes | attribute count 4 |
 * per attribute: name (modified UTF-8) | value length 4 | value bytes
 * </pre>
 */
final class JavaSerializationTranscoder implements Transcoder {
    static final int ID = 1;
    private static final Logger LOG = LoggerFactory.getLogger(JavaSerializationTranscoder.class);
    private static final int FORMAT = 1;

    private final ClassLoader classLoader;
    /** "name/class" pairs already reported, so a busy webapp does not flood the log. */
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    JavaSerializationTranscoder(ClassLoader classLoader) {
        this.classLoader = classLoader;
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public byte[] encode(SessionContent content) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            byte[] principal = content.principal() == null ? null : serialize("(principal)", content.principal());
            writeBlock(out, principal);
            Map<String, byte[]> values = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : content.attributes().entrySet()) {
                byte[] value = serialize(e.getKey(), e.getValue());
                if (value != null) {
                    values.put(e.getKey(), value);
                }
            }
            out.writeInt(values.size());
            for (Map.Entry<String, byte[]> e : values.entrySet()) {
                out.writeUTF(e.getKey());
                writeBlock(out, e.getValue());
            }
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        }
        return bytes.toByteArray();
    }

    private byte[] serialize(String name, Object value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (IOException | RuntimeException e) {
            String type = value == null ? "null" : value.getClass().getName();
            if (reported.add(name + "/" + type)) {
                LOG.warn("session attribute '{}' of class {} cannot be serialized and is left out of the stored"
                        + " session ({}); reported once per attribute and class", name, type, e.toString());
            }
            return null;
        }
        return bytes.toByteArray();
    }

    private static void writeBlock(DataOutputStream out, byte[] block) throws IOException {
        if (block == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(block.length);
            out.write(block);
        }
    }

    @Override
    public SessionContent decode(byte[] data) throws TranscoderException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int format = in.readUnsignedByte();
            if (format != FORMAT) {
                throw new TranscoderException("Java serialization format " + format + " is not understood", null);
            }
            byte[] principalBytes = readBlock(in);
            Principal principal = null;
            if (principalBytes != null) {
                Object p = deserialize("(principal)", principalBytes);
                if (p instanceof Principal) {
                    principal = (Principal) p;
                }
            }
            int count = in.readInt();
            if (count < 0 || count > data.length) {
                throw new TranscoderException("attribute count " + count + " is impossible", null);
            }
            Map<String, Object> attributes = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                String name = in.readUTF();
                byte[] value = readBlock(in);
                if (value != null) {
                    Object object = deserialize(name, value);
                    if (object != null) {
                        attributes.put(name, object);
                    }
                }
            }
            return new SessionContent(attributes, principal);
        } catch (IOException e) {
            throw new TranscoderException("session bytes are malformed: " + e, e);
        }
    }

    private static byte[] readBlock(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        if (length > in.available()) {
            throw new IOException("block of " + length + " bytes overruns the data");
        }
        byte[] block = new byte[length];
        in.readFully(block);
        return block;
    }

    private Object deserialize(String name, byte[] value) {
        try (ObjectInputStream in = new WebappObjectInputStream(new ByteArrayInputStream(value), classLoader)) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            if (reported.add("read/" + name + "/" + e.getClass().getName())) {
                LOG.warn("session attribute '{}' cannot be read back and is dropped ({}); the rest of the session"
                        + " is kept", name, e.toString());
            }
            return null;
        }
    }

    /** Resolves classes through the webapp's class loader, which sees the webapp's own classes. */
    private static final class WebappObjectInputStream extends ObjectInputStream {
        private static final Map<String, Class<?>> PRIMITIVES = new HashMap<>();

        static {
            for (Class<?> c : new Class<?>[] {boolean.class, byte.class, char.class, short.class, int.class,
                long.class, float.class, double.class, void.class}) {
                PRIMITIVES.put(c.getName(), c);
            }
        }

        private final ClassLoader loader;

        WebappObjectInputStream(InputStream in, ClassLoader loader) throws IOException {
            super(in);
            this.loader = loader;
        }

        /**
         * Only the webapp's loader (which delegates to the JDK's): never the loader of msm or
         * of the caller, which would see classes the webapp cannot.
         */
        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            try {
                return Class.forName(desc.getName(), false, loader);
            } catch (ClassNotFoundException e) {
                Class<?> primitive = PRIMITIVES.get(desc.getName());
                if (primitive == null) {
                    throw e;
                }
                return primitive;
            }
        }

        @Override
        @SuppressWarnings("deprecation")
        protected Class<?> resolveProxyClass(String[] interfaces) throws IOException, ClassNotFoundException {
            Class<?>[] resolved = new Class<?>[interfaces.length];
            for (int i = 0; i < interfaces.length; i++) {
                resolved[i] = Class.forName(interfaces[i], false, loader);
            }
            return Proxy.getProxyClass(loader, resolved);
        }
    }
}

package io.msm.serializers;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.ObjectStreamConstants;
import java.io.ObjectStreamException;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;

import io.msm.core.Logs;

/**
 * The JDK's serialization of one object, read back through the webapp's class loader with
 * {@link SerialFilter} checking every class name before it is loaded, its limits on depth, array
 * length and references applied through the JDK's stream filter, and the stream's structure read
 * first ({@link StreamScan}) so that rebuilding its hash-based collections cannot cost unbounded CPU.
 */
public final class JavaSerialization {
    private static final Logger LOG = Logs.get(JavaSerialization.class);
    private static final Map<String, Class<?>> PRIMITIVES = new HashMap<>();
    private static final byte[] STREAM_HEADER = {(byte) (ObjectStreamConstants.STREAM_MAGIC >>> 8),
        (byte) ObjectStreamConstants.STREAM_MAGIC, (byte) (ObjectStreamConstants.STREAM_VERSION >>> 8),
        (byte) ObjectStreamConstants.STREAM_VERSION};

    static {
        for (Class<?> c : new Class<?>[] {boolean.class, byte.class, char.class, short.class, int.class,
            long.class, float.class, double.class, void.class}) {
            PRIMITIVES.put(c.getName(), c);
        }
    }

    private final ClassLoader loader;
    private final SerialFilter filter;
    /** {@link HashShapes#inspect} of the classes streams have named, by name. */
    private final Map<String, Integer> classInfo = new ConcurrentHashMap<>();

    public JavaSerialization(ClassLoader loader, SerialFilter filter) {
        this.loader = loader;
        this.filter = filter;
        if (filter.isChecking()) {
            StreamLimits.reportIfMissing(LOG);
        }
    }

    /** @return how a class the filter allowed treats hashing and reading, see {@link HashShapes#inspect} */
    int classInfo(String name) {
        Integer info = classInfo.get(name);
        if (info == null) {
            info = HashShapes.inspect(name, loader);
            if (classInfo.size() < 10_000) {
                classInfo.put(name, info);
            }
        }
        return info;
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
        blockWriter(out).write(value);
    }

    /** @return a writer of several values to {@code out}, one stream for all of them */
    public BlockWriter blockWriter(OutputStream out) {
        return new BlockWriter(out);
    }

    /**
     * Writes the attributes of one session through one stream: building an ObjectOutputStream costs
     * more than writing a small attribute. The first value's bytes begin with the stream header, the
     * next ones with a reset (TC_RESET), so no value refers to another and each reads back on its own
     * ({@link #deserialize} puts a header before a reset). After a failure the next value starts a
     * new stream.
     */
    public final class BlockWriter {
        private final OutputStream out;
        private ObjectOutputStream stream;

        BlockWriter(OutputStream out) {
            this.out = out;
        }

        public void write(Object value) throws IOException {
            if (stream == null) {
                stream = new FilteredObjectOutputStream(out);
            } else {
                stream.reset();
            }
            try {
                stream.writeObject(value);
                stream.flush();
            } catch (IOException | RuntimeException | Error e) {
                stream = null; // half an object is in its tables and buffer
                throw e;
            }
        }
    }

    /** Refuses to write a class that the filter would refuse to read. */
    private final class FilteredObjectOutputStream extends ObjectOutputStream {
        FilteredObjectOutputStream(OutputStream out) throws IOException {
            super(out);
            try {
                enableReplaceObject(filter.isChecking());
            } catch (SecurityException e) {
                // A security manager forbids it: arrays over maxarray are then refused when read.
            }
        }

        /** An array the reader would refuse, and with it the session, leaves only its attribute out. */
        @Override
        protected Object replaceObject(Object obj) {
            if (obj != null && obj.getClass().isArray()) {
                filter.checkLength(java.lang.reflect.Array.getLength(obj), Long.MAX_VALUE);
            }
            return obj;
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
     * Writes the value as one Java block of {@code out} and checks it as its readers will ({@link
     * #checkReadable}).
     *
     * @throws RejectedContentException when a reader would refuse the block
     */
    public void writeBlock(BlockWriter writer, Object value, SessionBytes out) throws IOException {
        int block = out.beginBlock(AttributeTranscoder.JAVA);
        int from = out.size();
        writer.write(value);
        out.endBlock(block);
        checkReadable(out.buffer(), from, out.size() - from);
    }

    /**
     * Scans what was just written as a reader will ({@link StreamScan}): the writer sees class names
     * and array lengths, not the nesting, the objects or the hashing a value costs its reader, and
     * a block that breaks a reader's limit would discard its whole session at a failover.
     *
     * @throws RejectedContentException when a reader would refuse the bytes
     */
    public void checkReadable(byte[] bytes, int offset, int length) throws IOException {
        if (!filter.isChecking()) {
            return;
        }
        try {
            new StreamScan(this, DecodeGuard.start(filter), bytes, offset, length).run();
        } catch (RejectedContentException e) {
            if (!e.isTime()) {
                throw e;
            }
            // Once more: a pause (a collection, a busy machine) seldom strikes twice, while a value that
            // takes its readers that long, stored, would cost its whole session at every read.
            new StreamScan(this, DecodeGuard.start(filter), bytes, offset, length).run();
        }
    }

    /**
     * Reads one value on its own, with a {@link DecodeGuard} of its own.
     *
     * @throws RejectedContentException when a class or limit is refused (possibly as a cause)
     * @throws IOException, ClassNotFoundException when the bytes cannot be read back
     */
    public Object deserialize(byte[] bytes, int offset, int length) throws IOException, ClassNotFoundException {
        return deserialize(bytes, offset, length, DecodeGuard.start(filter));
    }

    /**
     * Reads one value of a session whose decode {@code guard} watches: its objects, hashing and
     * time count towards the session's limits.
     *
     * @throws RejectedContentException when a class or limit is refused (possibly as a cause)
     * @throws IOException, ClassNotFoundException when the bytes cannot be read back
     */
    public Object deserialize(byte[] bytes, int offset, int length, DecodeGuard guard) throws IOException,
            ClassNotFoundException {
        if (guard.isActive()) {
            new StreamScan(this, guard, bytes, offset, length).run();
        }
        InputStream block = new ByteArrayInputStream(bytes, offset, length);
        if (length > 0 && bytes[offset] == ObjectStreamConstants.TC_RESET) {
            block = new SequenceInputStream(new ByteArrayInputStream(STREAM_HEADER), block); // see BlockWriter
        }
        try (ObjectInputStream in = new FilteredObjectInputStream(block)) {
            StreamLimits.install(in, StreamLimits.create(filter, guard));
            return in.readObject();
        }
    }

    /**
     * A stream of several objects written by one ObjectOutputStream (memcached-session-manager 2.3.2's
     * attributes), scanned whole first and read under the same filter and limits as one value.
     */
    ObjectInputStream openAll(byte[] bytes, DecodeGuard guard) throws IOException {
        if (guard.isActive()) {
            StreamScan scan = new StreamScan(this, guard, bytes, 0, bytes.length);
            scan.runAll();
        }
        ObjectInputStream in = new FilteredObjectInputStream(new ByteArrayInputStream(bytes));
        StreamLimits.install(in, StreamLimits.create(filter, guard));
        return in;
    }

    /** A stream for several objects, refusing classes the filter would refuse to read. */
    ObjectOutputStream openOutput(OutputStream out) throws IOException {
        return new FilteredObjectOutputStream(out);
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

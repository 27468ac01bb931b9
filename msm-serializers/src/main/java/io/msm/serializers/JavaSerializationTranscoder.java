package io.msm.serializers;

import java.io.IOException;

/**
 * Java serialization, one attribute at a time (see {@link AttributeTranscoder}), every class name
 * checked by the {@link SerialFilter} before it is loaded.
 */
final class JavaSerializationTranscoder extends AttributeTranscoder<JavaSerializationTranscoder.Call> {
    static final int ID = 1;

    private final JavaSerialization java;

    JavaSerializationTranscoder(ClassLoader classLoader, SerialFilter filter) {
        super(filter);
        this.java = new JavaSerialization(classLoader, filter);
    }

    @Override
    public int id() {
        return ID;
    }

    /** One encode: the stream all its attributes are written through. */
    static final class Call {
        JavaSerialization.BlockWriter writer;
    }

    @Override
    protected Call open() {
        return new Call();
    }

    @Override
    protected void close(Call call) {
        call.writer = null;
    }

    @Override
    protected void write(Call call, String name, Object value, SessionBytes out) throws Exception {
        if (call.writer == null) {
            call.writer = java.blockWriter(out);
        }
        try {
            java.writeBlock(call.writer, value, out);
        } catch (IOException | RuntimeException e) {
            call.writer = null; // its stream wrote bytes that are cut off: the next value starts a new one
            throw e;
        }
    }

    @Override
    protected Object read(Call call, int kind, byte[] data, int offset, int length, DecodeGuard guard)
            throws Exception {
        if (kind != JAVA) {
            throw new java.io.IOException("block kind " + kind + " is not Java serialization");
        }
        return java.deserialize(data, offset, length, guard);
    }
}

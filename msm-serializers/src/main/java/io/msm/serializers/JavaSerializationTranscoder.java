package io.msm.serializers;

/**
 * Java serialization, one attribute at a time (see {@link AttributeTranscoder}), every class name
 * checked by the {@link SerialFilter} before it is loaded.
 */
final class JavaSerializationTranscoder extends AttributeTranscoder<Void> {
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

    @Override
    protected Void open() {
        return null;
    }

    @Override
    protected void close(Void call) {
        // nothing borrowed
    }

    @Override
    protected void write(Void call, String name, Object value, SessionBytes out) throws Exception {
        int block = out.beginBlock(JAVA);
        java.serialize(value, out);
        out.endBlock(block);
    }

    @Override
    protected Object read(Void call, int kind, byte[] data, int offset, int length) throws Exception {
        if (kind != JAVA) {
            throw new java.io.IOException("block kind " + kind + " is not Java serialization");
        }
        return java.deserialize(data, offset, length);
    }
}

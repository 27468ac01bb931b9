package io.msm.serializers.kryo;

import java.io.Serializable;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;

import io.msm.serializers.AttributeTranscoder;
import io.msm.serializers.DecodeGuard;
import io.msm.serializers.JavaSerialization;
import io.msm.serializers.RejectedContentException;
import io.msm.serializers.SerialFilter;
import io.msm.serializers.SessionBytes;

/**
 * Kryo, one attribute at a time (see {@link AttributeTranscoder}). An attribute Kryo cannot write
 * is written with Java serialization instead, logged once per class; the frame remembers which
 * was used, so either reads back.
 */
final class KryoTranscoder extends AttributeTranscoder<KryoTranscoder.Borrowed> {
    static final int ID = 2;
    private static final int POOL_SIZE = 64;
    private static final byte[] NO_BYTES = {};
    private static final int INITIAL_BUFFER = 4096;
    /** A pooled worker keeps at most this much output buffer. */
    private static final int KEPT_BUFFER = 64 * 1024;
    /** How Kryo words its depth limit (Kryo.beginObject). */
    private static final String MAX_DEPTH_MESSAGE = "Max depth exceeded";
    /** How Kryo's Output words an attribute larger than serialFilter maxbytes. */
    private static final String BUFFER_OVERFLOW_MESSAGE = "Buffer overflow";

    private final JavaSerialization java;
    private final Pool<Worker> pool;

    /** A Kryo instance with its buffers; Kryo is not thread-safe, so each encode or decode borrows one. */
    private static final class Worker {
        final SessionKryo kryo;
        final Output output;
        final Input input;
        final Rejections rejections = new Rejections();

        Worker(ClassLoader loader, SerialFilter filter, JavaSerialization java) {
            this.kryo = KryoSetup.create(loader, filter, java, rejections);
            this.output = filter.isChecking() ? new LimitedOutput(INITIAL_BUFFER, filter.maxBytes(), filter)
                    : new Output(INITIAL_BUFFER, filter.maxBytes());
            this.input = filter.isChecking() ? new LimitedInput(filter) : new Input();
        }
    }

    /** The worker one encode or decode call uses for all its attributes, borrowed on first use. */
    final class Borrowed {
        private Worker worker;

        Worker get() {
            if (worker == null) {
                worker = pool.obtain();
            }
            return worker;
        }

        /** After a failure: Kryo's state is not worth trusting, so the worker is not returned. */
        void discard() {
            worker = null;
        }

        void giveBack() {
            if (worker != null) {
                if (worker.output.getBuffer().length > KEPT_BUFFER) {
                    worker.output.setBuffer(new byte[INITIAL_BUFFER], filter.maxBytes()); // one huge attribute once
                }
                pool.free(worker);
                worker = null;
            }
        }
    }

    /** Kryo writes objects that are not Serializable too, except the JDK's it refuses to build. */
    @Override
    public boolean canStore(Object value) {
        return value == null || !RefusedJdkClassSerializer.isRefused(value.getClass(), filter);
    }

    KryoTranscoder(ClassLoader loader, SerialFilter filter) {
        super(filter);
        this.java = new JavaSerialization(loader, filter);
        // Pooled rather than thread-local: Tomcat's threads outlive the webapp and would pin its class loader.
        this.pool = new Pool<Worker>(true, false, POOL_SIZE) {
            @Override
            protected Worker create() {
                return new Worker(loader, filter, java);
            }
        };
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    protected Borrowed open() {
        return new Borrowed();
    }

    @Override
    protected void close(Borrowed call) {
        call.giveBack();
    }

    @Override
    protected void write(Borrowed call, String name, Object value, SessionBytes out) throws Exception {
        Worker w = call.get();
        try {
            w.output.reset();
            w.kryo.writeClassAndObject(w.output, value);
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            call.discard();
            // What the filter refuses, or is too deep or too large to be read back, is not retried.
            if (String.valueOf(e.getMessage()).startsWith(MAX_DEPTH_MESSAGE)) {
                throw deeper(); // named as the reader names it, with the setting to raise
            }
            if (RejectedContentException.in(e) != null || !(value instanceof Serializable) || isLimit(e)) {
                throw e instanceof RuntimeException ? (RuntimeException) e : new IllegalStateException(e);
            }
            String type = value.getClass().getName();
            warnOnce("kryo/" + type, "session attribute '{}' of class {} cannot be written by Kryo ({}); attributes"
                    + " of this class are stored with Java serialization instead (reported once per class)", name,
                    type, e.toString());
            java.writeBlock(java.blockWriter(out), value, out);
            return;
        }
        int block = out.beginBlock(KRYO);
        out.write(w.output.getBuffer(), 0, w.output.position());
        out.endBlock(block);
    }

    private RejectedContentException deeper() {
        return RejectedContentException.limit("object graph deeper than " + SerialFilter.ATTRIBUTE + " maxdepth="
                + filter.maxDepth());
    }

    private static boolean isLimit(Throwable e) {
        String message = String.valueOf(e.getMessage());
        return e instanceof KryoException && (message.startsWith(MAX_DEPTH_MESSAGE)
                || message.startsWith(BUFFER_OVERFLOW_MESSAGE));
    }

    @Override
    protected Object read(Borrowed call, int kind, byte[] data, int offset, int length, DecodeGuard guard)
            throws Exception {
        if (kind == JAVA) {
            return java.deserialize(data, offset, length, guard);
        }
        if (kind != KRYO) {
            throw new java.io.IOException("block kind " + kind + " is not understood");
        }
        Worker w = call.get();
        w.input.setBuffer(data, offset, length);
        w.rejections.clear();
        if (guard.isActive()) {
            w.kryo.beginRead(guard);
        }
        try {
            Object value = w.kryo.readClassAndObject(w.input);
            w.rejections.throwIfAny();
            w.input.setBuffer(NO_BYTES); // let go of the session bytes
            return value;
        } catch (RuntimeException | StackOverflowError | LinkageError e) {
            call.discard();
            w.rejections.throwIfAny();
            if (String.valueOf(e.getMessage()).startsWith(MAX_DEPTH_MESSAGE)) {
                throw deeper();
            }
            throw e;
        } finally {
            w.kryo.endRead();
        }
    }
}

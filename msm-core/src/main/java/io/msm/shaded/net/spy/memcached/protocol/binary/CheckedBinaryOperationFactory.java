package io.msm.shaded.net.spy.memcached.protocol.binary;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Map;

import javax.security.auth.callback.CallbackHandler;

import io.msm.shaded.net.spy.memcached.CASResponse;
import io.msm.shaded.net.spy.memcached.ops.CASOperation;
import io.msm.shaded.net.spy.memcached.ops.CASOperationStatus;
import io.msm.shaded.net.spy.memcached.ops.DeleteOperation;
import io.msm.shaded.net.spy.memcached.ops.GetOperation;
import io.msm.shaded.net.spy.memcached.ops.GetsOperation;
import io.msm.shaded.net.spy.memcached.ops.NoopOperation;
import io.msm.shaded.net.spy.memcached.ops.OperationCallback;
import io.msm.shaded.net.spy.memcached.ops.OperationStatus;
import io.msm.shaded.net.spy.memcached.ops.SASLAuthOperation;
import io.msm.shaded.net.spy.memcached.ops.SASLMechsOperation;
import io.msm.shaded.net.spy.memcached.ops.SASLStepOperation;
import io.msm.shaded.net.spy.memcached.ops.StatsOperation;
import io.msm.shaded.net.spy.memcached.ops.StoreOperation;
import io.msm.shaded.net.spy.memcached.ops.StoreType;
import io.msm.shaded.net.spy.memcached.ops.TouchOperation;
import io.msm.shaded.net.spy.memcached.ops.VersionOperation;

/**
 * The binary operations msm sends, each refusing an answer that does not start as a binary-protocol
 * answer does. The client reads the length of an answer's body from bytes 8 to 11 of what the node
 * sent and allocates it before anything else: memcached out of connections sends a line of text
 * ("ERROR Too many open connections", read as 1.7 GB), and so does anything else behind a wrong port
 * (an HTTP server, sshd). That allocation ran out of heap or, with assertions on, killed the client's
 * only IO thread for good. Refused, the bytes end the connection, which the client makes again.
 *
 * <p>It lives in the client's package because the operation classes are package-private there;
 * both are in one jar (the adapter's) and one class loader.
 */
public final class CheckedBinaryOperationFactory extends BinaryOperationFactory {
    /** The first byte of every binary-protocol answer. */
    private static final byte ANSWER_MAGIC = (byte) 0x81;

    /**
     * Checks the first byte of an answer the operation has not begun to read.
     *
     * @return true once the answer is begun, and the rest of it is the operation's to read
     */
    static boolean checkStart(boolean begun, ByteBuffer b) throws IOException {
        if (begun || !b.hasRemaining()) {
            return begun; // nothing to look at yet (a TLS record without data): the next bytes are checked
        }
        if (b.get(b.position()) != ANSWER_MAGIC) {
            throw new IOException("the node sent something that is not a memcached binary-protocol answer: '"
                    + printable(b) + "'");
        }
        return true;
    }

    /** Up to 80 bytes of what was sent, unprintable ones as '.', the buffer left as it was. */
    private static String printable(ByteBuffer b) {
        StringBuilder s = new StringBuilder();
        for (int i = b.position(); i < b.limit() && s.length() < 80; i++) {
            int c = b.get(i) & 0xFF;
            if (c == '\r' || c == '\n') {
                break;
            }
            s.append(c >= 0x20 && c < 0x7F ? (char) c : '.');
        }
        return s.toString();
    }

    @Override
    public GetOperation get(String key, GetOperation.Callback cb) {
        return new GetOperationImpl(key, cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public GetOperation get(Collection<String> keys, GetOperation.Callback cb) {
        return new MultiGetOperationImpl(keys, cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public GetsOperation gets(String key, GetsOperation.Callback cb) {
        return new GetsOperationImpl(key, cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public StoreOperation store(StoreType type, String key, int flags, int exp, byte[] data,
            StoreOperation.Callback cb) {
        return checkedStore(type, key, flags, exp, data, 0, cb);
    }

    @Override
    public CASOperation cas(StoreType type, String key, long casId, int flags, int exp, byte[] data,
            StoreOperation.Callback cb) {
        return checkedStore(type, key, flags, exp, data, casId, cb);
    }

    private static StoreOperationImpl checkedStore(StoreType type, String key, int flags, int exp, byte[] data,
            long casId, StoreOperation.Callback cb) {
        return new StoreOperationImpl(type, key, flags, exp, data, casId, cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }

            /**
             * A cas the node refuses (the value too large, no memory left) answers with a status that the
             * client's cas callback does not handle: it threw on the IO thread, which dropped the
             * connection and cancelled every other operation on it. Given as a cas answer that is neither
             * stored, changed nor gone, it keeps its status code, which says it was refused.
             */
            @Override
            protected OperationStatus getStatusForErrorCode(int errCode, byte[] errPl) throws IOException {
                OperationStatus status = super.getStatusForErrorCode(errCode, errPl);
                if (casId == 0 || status == null || status.isSuccess() || status instanceof CASOperationStatus) {
                    return status;
                }
                return new CASOperationStatus(false, status.getMessage(), CASResponse.OBSERVE_ERROR_IN_ARGS,
                        status.getStatusCode());
            }
        };
    }

    @Override
    public DeleteOperation delete(String key, DeleteOperation.Callback cb) {
        return delete(key, 0L, cb);
    }

    @Override
    public DeleteOperation delete(String key, long cas, DeleteOperation.Callback cb) {
        return new DeleteOperationImpl(key, cas, cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public TouchOperation touch(String key, int expiration, OperationCallback cb) {
        return new TouchOperationImpl(key, expiration, cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public StatsOperation stats(String arg, StatsOperation.Callback cb) {
        return new StatsOperationImpl(arg, cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public NoopOperation noop(OperationCallback cb) {
        return new NoopOperationImpl(cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public VersionOperation version(OperationCallback cb) {
        return new VersionOperationImpl(cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public SASLMechsOperation saslMechs(OperationCallback cb) {
        return new SASLMechsOperationImpl(cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public SASLAuthOperation saslAuth(String[] mech, String serverName, Map<String, ?> props, CallbackHandler cbh,
            OperationCallback cb) {
        return new SASLAuthOperationImpl(mech, serverName, props, cbh, cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }

    @Override
    public SASLStepOperation saslStep(String[] mech, byte[] challenge, String serverName, Map<String, ?> props,
            CallbackHandler cbh, OperationCallback cb) {
        return new SASLStepOperationImpl(mech, challenge, serverName, props, cbh, cb) {
            private boolean begun;

            @Override
            public void readFromBuffer(ByteBuffer b) throws IOException {
                begun = checkStart(begun, b);
                super.readFromBuffer(b);
            }

            @Override
            protected void resetInput() {
                begun = false;
                super.resetInput();
            }
        };
    }
}

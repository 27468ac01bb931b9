package io.msm.shaded.net.spy.memcached.protocol.ascii;

import java.io.IOException;
import io.msm.shaded.net.spy.memcached.CASResponse;
import io.msm.shaded.net.spy.memcached.ops.CASOperation;
import io.msm.shaded.net.spy.memcached.ops.CASOperationStatus;
import io.msm.shaded.net.spy.memcached.ops.OperationCallback;
import io.msm.shaded.net.spy.memcached.ops.OperationErrorType;
import io.msm.shaded.net.spy.memcached.ops.OperationState;
import io.msm.shaded.net.spy.memcached.ops.OperationStatus;
import io.msm.shaded.net.spy.memcached.ops.StatusCode;
import io.msm.shaded.net.spy.memcached.ops.StoreOperation;
import io.msm.shaded.net.spy.memcached.ops.StoreType;

/**
 * The text protocol's stores, answering a store that the node refuses as a refusal. memcached
 * answers an item over its size limit or one it has no memory for with a SERVER_ERROR line; the
 * client took that line for a broken connection (it throws from the operation, and the IO thread
 * reconnects), which cancelled the operations of every other request on the connection. The line
 * is a complete answer, and the connection is in step after it.
 *
 * <p>It lives in the client's package because the operation classes are package-private there.
 */
public final class RefusalAnsweringAsciiOperationFactory extends AsciiOperationFactory {

    @Override
    public StoreOperation store(StoreType storeType, String key, int flags, int exp, byte[] data,
            StoreOperation.Callback cb) {
        return new Store(storeType, key, flags, exp, data, cb);
    }

    @Override
    public CASOperation cas(StoreType type, String key, long casId, int flags, int exp, byte[] data,
            StoreOperation.Callback cb) {
        return new CASOperationImpl(key, casId, flags, exp, data, cb) {
            @Override
            protected void handleError(OperationErrorType eType, String line) throws IOException {
                StatusCode refused = refusal(eType, line, getState());
                if (refused == null) {
                    super.handleError(eType, line);
                    return;
                }
                getCallback().receivedStatus(
                        new CASOperationStatus(false, line, CASResponse.OBSERVE_ERROR_IN_ARGS, refused));
                transitionState(OperationState.COMPLETE);
            }
        };
    }

    /**
     * @param state the operation's: an answer that comes while its value is still being sent (memcached
     *     before 1.6 answers first and then swallows the rest) is left to the client, as before, since
     *     the operation cannot complete while the client still writes it
     * @return the status code of a refusal, or null for any other error
     */
    static StatusCode refusal(OperationErrorType eType, String line, OperationState state) {
        if (eType != OperationErrorType.SERVER || state != OperationState.READING) {
            return null;
        }
        // Only these two: after others (out of memory reading a request) memcached closes the connection.
        String text = line.trim();
        return text.equals("SERVER_ERROR object too large for cache") ? StatusCode.ERR_2BIG
                : text.equals("SERVER_ERROR out of memory storing object") ? StatusCode.ERR_NO_MEM : null;
    }

    /** As the client's own store operation, which is final. */
    private static final class Store extends BaseStoreOperationImpl implements StoreOperation {
        private final StoreType storeType;

        Store(StoreType storeType, String key, int flags, int exp, byte[] data, OperationCallback cb) {
            super(storeType.name(), key, flags, exp, data, cb);
            this.storeType = storeType;
        }

        @Override
        public StoreType getStoreType() {
            return storeType;
        }

        @Override
        protected void handleError(OperationErrorType eType, String line) throws IOException {
            StatusCode refused = refusal(eType, line, getState());
            if (refused == null) {
                super.handleError(eType, line);
                return;
            }
            getCallback().receivedStatus(new OperationStatus(false, line, refused));
            transitionState(OperationState.COMPLETE);
        }
    }
}

package io.msm.core;

/**
 * A memcached operation that did not complete: the node is down, slow or failed it, or the item
 * was refused. A refusal (a key the client will not send, an item over memcached's item size or
 * beyond its memory) is about the one item, never about the node: {@link NodeHealth#failed} keeps
 * such a node up.
 */
final class StoreException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String nodeId;
    private final boolean refused;

    StoreException(String nodeId, String message, Throwable cause) {
        this(nodeId, message, cause, false);
    }

    private StoreException(String nodeId, String message, Throwable cause, boolean refused) {
        super(message, cause);
        this.nodeId = nodeId;
        this.refused = refused;
    }

    /** The item was refused; the node is fine. */
    static StoreException refused(String nodeId, String message, Throwable cause) {
        return new StoreException(nodeId, message, cause, true);
    }

    String nodeId() {
        return nodeId;
    }

    /** @return true when the node did not answer in time (not an answer with an error) */
    boolean isTimeout() {
        return getCause() instanceof java.util.concurrent.TimeoutException;
    }

    /** @return true when the item was refused and the node is fine */
    boolean isRefused() {
        return refused;
    }
}

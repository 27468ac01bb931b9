package io.msm.core;

/** A memcached operation that did not complete: the node is down, slow, full or refused it. */
final class StoreException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String nodeId;

    StoreException(String nodeId, String message, Throwable cause) {
        super(message, cause);
        this.nodeId = nodeId;
    }

    String nodeId() {
        return nodeId;
    }
}

package io.msm.serializers;

/**
 * Session bytes name a class {@code serialFilter} refuses or exceed one of its limits: they were
 * not written by msm, so the whole session is discarded, not just one attribute.
 */
public final class RejectedContentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean limit;
    private final boolean time;

    /** A refused class. */
    public RejectedContentException(String message) {
        this(message, false, false);
    }

    private RejectedContentException(String message, boolean limit, boolean time) {
        super(message, null, false, false);
        this.limit = limit;
        this.time = time;
    }

    /** An exceeded limit (depth, size, objects, hashing, time) rather than a refused class. */
    public static RejectedContentException limit(String message) {
        return new RejectedContentException(message, true, false);
    }

    /** {@code maxmillis} ran out: unlike the other limits, a pause of the machine can cause it. */
    static RejectedContentException timeLimit(String message) {
        return new RejectedContentException(message, true, true);
    }

    /** @return true when {@code maxmillis} ran out */
    boolean isTime() {
        return time;
    }

    /** @return true for an exceeded limit, false for a refused class */
    public boolean isLimit() {
        return limit;
    }

    /** @return the rejection somewhere in the cause chain of {@code t}, or null */
    public static RejectedContentException in(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof RejectedContentException) {
                return (RejectedContentException) c;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }
}

package io.msm.serializers;

/**
 * Session bytes name a class {@code serialFilter} refuses or exceed one of its limits: they were
 * not written by msm, so the whole session is discarded, not just one attribute.
 */
public final class RejectedContentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RejectedContentException(String message) {
        super(message, null, false, false);
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

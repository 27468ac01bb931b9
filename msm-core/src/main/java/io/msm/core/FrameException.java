package io.msm.core;

/** Bytes that are not a session frame this version understands. */
final class FrameException extends Exception {
    private static final long serialVersionUID = 1L;

    FrameException(String message) {
        super(message);
    }
}

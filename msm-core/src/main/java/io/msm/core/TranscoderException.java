package io.msm.core;

/** Bytes that do not decode into session content. */
public class TranscoderException extends Exception {
    private static final long serialVersionUID = 1L;

    public TranscoderException(String message, Throwable cause) {
        super(message, cause);
    }
}

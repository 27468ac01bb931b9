package io.msm.core;

import java.security.Principal;
import java.util.Map;

/**
 * Java serialization as memcached-session-manager 2.3.2 wrote it: the attributes in one stream (a
 * count, then name and value pairs), the principal in a stream of its own. Implemented beside the
 * transcoders, so that what is read goes through the same {@code serialFilter} and limits.
 */
public interface Msm2Serialization {
    /** Leaves out, and logs, an attribute that cannot be serialized, as 2.3.2 did. */
    byte[] writeAttributes(Map<String, Object> attributes);

    /** @throws TranscoderException when the stream is broken or holds a class the filter refuses */
    Map<String, Object> readAttributes(byte[] data) throws TranscoderException;

    /** @throws TranscoderException when the principal cannot be serialized */
    byte[] writePrincipal(Principal principal) throws TranscoderException;

    Principal readPrincipal(byte[] data) throws TranscoderException;
}

package io.msm.tomcat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * How a Tomcat line writes the request its FORM authenticator saved before the login page, and
 * reads it back on another Tomcat: as plain fields, so that no Tomcat class is ever deserialized.
 */
interface SavedRequests {
    void write(Object savedRequest, DataOutputStream out) throws IOException;

    /** @throws IOException when the bytes are not what {@link #write} makes */
    Object read(DataInputStream in) throws IOException;
}

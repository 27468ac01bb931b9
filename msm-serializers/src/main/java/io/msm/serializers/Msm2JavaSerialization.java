package io.msm.serializers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.security.Principal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;

import io.msm.core.Logs;
import io.msm.core.Msm2Serialization;
import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderException;

/**
 * memcached-session-manager 2.3.2's Java serialization, read through {@link SerialFilter} and its
 * limits like every session. Its attributes are one stream: a serialized Integer count, then each
 * name and value. One stream means one refused class refuses the session, where msm's own format
 * drops only the attribute; and a value that fails half-written would spoil the stream, so each
 * value is tried alone before it joins.
 */
public final class Msm2JavaSerialization implements Msm2Serialization {
    private static final Logger LOG = Logs.get(Msm2JavaSerialization.class);

    private final JavaSerialization java;
    private final SerialFilter filter;
    private final ReportedOnce reported = new ReportedOnce(LOG);

    public Msm2JavaSerialization(TranscoderContext context) {
        this.filter = SerialFilter.parse(context.serialFilter(), context.reportOnly());
        this.java = new JavaSerialization(context.classLoader(), filter);
    }

    @Override
    public byte[] writeAttributes(Map<String, Object> attributes) {
        try {
            return write(attributes);
        } catch (IOException | RuntimeException | StackOverflowError | LinkageError e) {
            // A StackOverflowError too (a value nested thousands deep): like msm's own encode, it costs
            // that value alone, never the request or the backup thread.
            // Some value fails: find which alone, and write the others.
            Map<String, Object> writable = new LinkedHashMap<>();
            for (Map.Entry<String, Object> a : attributes.entrySet()) {
                try {
                    java.serialize(a.getValue());
                    writable.put(a.getKey(), a.getValue());
                } catch (IOException | RuntimeException | StackOverflowError | LinkageError bad) {
                    String type = a.getValue() == null ? "null" : a.getValue().getClass().getName();
                    if (reported.first(a.getKey() + "/" + type)) {
                        LOG.warn("session attribute '{}' of class {} cannot be serialized and is left out of the copy"
                                + " memcached-session-manager 2.3.2 reads ({}); reported once per attribute and class",
                                a.getKey(), type, bad.toString());
                    }
                }
            }
            try {
                return write(writable);
            } catch (IOException | RuntimeException | StackOverflowError | LinkageError still) {
                throw new IllegalArgumentException("attributes cannot be written in 2.3.2's format: " + still, still);
            }
        }
    }

    private byte[] write(Map<String, Object> attributes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        try (ObjectOutputStream out = java.openOutput(bytes)) {
            List<Map.Entry<String, Object>> entries = new ArrayList<>();
            for (Map.Entry<String, Object> a : attributes.entrySet()) {
                if (a.getValue() != null) {
                    entries.add(a);
                }
            }
            out.writeObject(Integer.valueOf(entries.size()));
            for (Map.Entry<String, Object> a : entries) {
                out.writeObject(a.getKey());
                out.writeObject(a.getValue());
            }
        }
        return bytes.toByteArray();
    }

    @Override
    public Map<String, Object> readAttributes(byte[] data) throws TranscoderException {
        if (data.length > filter.maxBytes()) {
            throw new TranscoderException("attributes of " + data.length + " bytes exceed " + SerialFilter.ATTRIBUTE
                    + " maxbytes=" + filter.maxBytes(), null);
        }
        DecodeGuard guard = DecodeGuard.start(filter);
        guard.beginAttribute();
        try (ObjectInputStream in = java.openAll(data, guard)) {
            Object count = in.readObject();
            if (!(count instanceof Integer) || (Integer) count < 0 || (Integer) count > data.length) {
                throw new TranscoderException("attribute count " + count + " is impossible", null);
            }
            Map<String, Object> attributes = new LinkedHashMap<>();
            for (int i = 0; i < (Integer) count; i++) {
                Object name = in.readObject();
                Object value = in.readObject();
                if (!(name instanceof String)) {
                    throw new TranscoderException("attribute name " + i + " is not a string", null);
                }
                if (value != null && !"___NOT_SERIALIZABLE_EXCEPTION___".equals(value)) { // 2.3.2's placeholder
                    attributes.put((String) name, value);
                }
            }
            return attributes;
        } catch (IOException | ClassNotFoundException | RuntimeException | StackOverflowError | LinkageError e) {
            throw failure("attributes", e);
        }
    }

    @Override
    public byte[] writePrincipal(Principal principal) throws TranscoderException {
        try {
            return java.serialize(principal);
        } catch (IOException | RuntimeException | StackOverflowError | LinkageError e) {
            throw new TranscoderException("the principal of class " + principal.getClass().getName()
                    + " cannot be serialized: " + e, e);
        }
    }

    @Override
    public Principal readPrincipal(byte[] data) throws TranscoderException {
        try {
            Object p = java.deserialize(data, 0, data.length);
            if (!(p instanceof Principal)) {
                throw new TranscoderException("the principal is a " + (p == null ? "null" : p.getClass().getName()), null);
            }
            return (Principal) p;
        } catch (IOException | ClassNotFoundException | RuntimeException | StackOverflowError | LinkageError e) {
            throw failure("principal", e);
        }
    }

    private static TranscoderException failure(String what, Throwable e) {
        RejectedContentException rejected = RejectedContentException.in(e);
        // Both carry class names read from the bytes: printed so that they cannot forge log lines.
        String why = rejected != null ? "rejected: " + ReportedOnce.printable(rejected.getMessage(), 400)
                + "; nothing was instantiated from a refused class" : "malformed: " + ReportedOnce.printable(e.toString(), 400);
        return new TranscoderException("the " + what + " of memcached-session-manager 2.3.2's copy are " + why, e);
    }
}

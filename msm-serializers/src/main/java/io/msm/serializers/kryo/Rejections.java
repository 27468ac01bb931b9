package io.msm.serializers.kryo;

import io.msm.serializers.RejectedContentException;

/**
 * Remembers a refusal of the serialFilter during one read. Kryo's compatible field serializer
 * skips field data it cannot read, and would skip a refused class with it; the class is not loaded
 * either way, but the transcoder must still discard the whole session, so it asks here after
 * every read. One per Kryo instance, which one thread uses at a time.
 */
final class Rejections {
    private RejectedContentException first;

    void clear() {
        first = null;
    }

    RejectedContentException record(RejectedContentException e) {
        if (first == null) {
            first = e;
        }
        return e;
    }

    void throwIfAny() {
        RejectedContentException e = first;
        first = null;
        if (e != null) {
            throw e;
        }
    }
}

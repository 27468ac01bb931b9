package io.msm.core;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * memcached keys are at most 250 bytes. Every key msm writes is the prefix, a decoration (non-sticky
 * records, parts of a large session) and a session id no longer than {@link SessionIdFormat}
 * accepts; checked once at start, so that no request can ever produce a key the client refuses.
 */
public final class KeyLimits {
    static final int MAX_KEY = 250;
    /** The longest text msm puts between prefix and id, plus what a part's key appends. */
    static final int LONGEST_DECORATION = "backup-validity:".length() + PartedStore.KEY_SUFFIX;

    private KeyLimits() {
    }

    /**
     * @param prefix the built storage key prefix
     * @param randomLength the length of the random part of the container's session ids
     * @param contextPath for the message: what the prefix was built from
     */
    public static void check(Settings settings, String prefix, int randomLength, String contextPath,
            List<String> errors) {
        if (!settings.enabled() || settings.nodes().isEmpty()) {
            return;
        }
        int idLength = settings.encryptionKeys() != null ? SessionNames.HASHED_LENGTH
                : new SessionIdFormat(settings.nodes(), randomLength, new Statistics(), null).maxLength();
        int prefixBytes = prefix.getBytes(StandardCharsets.UTF_8).length;
        int longest = prefixBytes + LONGEST_DECORATION + idLength;
        if (longest > MAX_KEY) {
            errors.add(Settings.STORAGE_KEY_PREFIX + ": memcached keys of this webapp would be up to " + longest
                    + " bytes, more than memcached's " + MAX_KEY + ": the prefix '" + prefix + "' (" + prefixBytes
                    + " bytes, from storageKeyPrefix=\"" + settings.storageKeyPrefix() + "\" and the context path '"
                    + contextPath + "') leaves " + Math.max(0, MAX_KEY - LONGEST_DECORATION - prefixBytes)
                    + " bytes for session ids of up to " + idLength + "; shorten the context path or write a shorter"
                    + " storageKeyPrefix, such as static:<short name>");
        }
    }
}

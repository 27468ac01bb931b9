package io.msm.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

import javax.crypto.Mac;

import org.slf4j.Logger;

/**
 * With {@code encryptionKeys}, a non-sticky session's validity record carries a keyed tag bound to the
 * session: the record alone decides when a session idle elsewhere expires, and anyone who can write
 * to memcached could otherwise give a stolen session a timeout of never. A record without a valid tag
 * counts as missing, and the session's own sealed copy decides ({@link NonStickyLoader}).
 */
final class ValiditySeal {
    private static final Logger LOG = Logs.get(ValiditySeal.class);
    static final int TAG_BYTES = 16;

    private final ThreadLocal<Mac> macs;
    private final OncePerMinute logLimit;

    /** @param key null: records are written and read as they are, without encryption */
    ValiditySeal(byte[] key, java.time.Clock clock) {
        this.macs = key == null ? null : ThreadLocal.withInitial(() -> EncryptionKeys.hmac(key));
        this.logLimit = new OncePerMinute(clock);
    }

    boolean isOn() {
        return macs != null;
    }

    /** @param owner what the session's sealed copy is bound to ({@link SessionNames#owner}) */
    byte[] seal(String owner, byte[] record) {
        if (macs == null) {
            return record;
        }
        byte[] sealed = Arrays.copyOf(record, record.length + TAG_BYTES);
        System.arraycopy(tag(owner, record, record.length), 0, sealed, record.length, TAG_BYTES);
        return sealed;
    }

    /**
     * @param masked the session's id for the log line
     * @return the record, or null when there is none or its tag does not verify (logged)
     */
    byte[] open(String owner, byte[] bytes, String masked) {
        if (macs == null || bytes == null) {
            return bytes;
        }
        int length = bytes.length - TAG_BYTES;
        if (length > 0) {
            byte[] expected = tag(owner, bytes, length);
            if (MessageDigest.isEqual(expected, Arrays.copyOfRange(bytes, length, bytes.length))) {
                return Arrays.copyOf(bytes, length);
            }
        }
        if (logLimit.allow("forged")) {
            LOG.warn("the validity record of session {} in memcached does not verify with encryptionKeys (written by"
                    + " something other than msm with these keys); it is ignored and the session's own encrypted copy"
                    + " decides whether it has expired (this line repeats at most once a minute)", masked);
        }
        return null;
    }

    private byte[] tag(String owner, byte[] record, int length) {
        Mac mac = macs.get();
        mac.update(owner.getBytes(StandardCharsets.UTF_8));
        mac.update((byte) 0);
        mac.update(record, 0, length);
        return Arrays.copyOf(mac.doFinal(), TAG_BYTES);
    }
}

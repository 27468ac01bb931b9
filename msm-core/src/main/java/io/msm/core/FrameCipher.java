package io.msm.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals a session frame with AES-256-GCM, and opens one.
 *
 * <pre>
 * magic 'm' 's' | version 1 | flags 1 (ENCRYPTED) | key id length 1 + key id | instance salt 16 |
 * nonce 12 | AES-GCM of the clear frame, with its 16-byte tag
 * </pre>
 *
 * The associated data is everything before the ciphertext plus the session's name (storage key
 * prefix and id), so a frame copied under another session's or another webapp's key fails to open.
 * Nonces never repeat under one key: each Tomcat start picks a random 128-bit salt, encrypts under a
 * key derived from the file's key and that salt, and counts its nonces. A random 96-bit nonce per
 * frame would be safe for about 2^32 frames per key only, a few days of a busy cluster.
 */
final class FrameCipher {
    static final int ENCRYPTED = 0x01;
    private static final int SALT_BYTES = 16;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    /** Derived keys of other Tomcats' salts; a cluster has a handful, a restart adds one. */
    private static final int MAX_DERIVED = 256;

    private final EncryptionKeys keys;
    private final byte[] salt = new byte[SALT_BYTES];
    private final AtomicLong nonces = new AtomicLong();
    private final Map<String, SecretKeySpec> derived = new ConcurrentHashMap<>();
    private final ThreadLocal<Cipher> ciphers = ThreadLocal.withInitial(FrameCipher::newCipher);

    FrameCipher(EncryptionKeys keys) {
        this.keys = keys;
        new SecureRandom().nextBytes(salt);
    }

    /** Why a sealed frame did not open: the message is for the log and names no key byte. */
    static final class NotAuthenticException extends Exception {
        private static final long serialVersionUID = 1L;

        NotAuthenticException(String message) {
            super(message);
        }
    }

    static boolean isSealed(byte[] bytes) {
        return bytes.length > 3 && bytes[0] == 'm' && bytes[1] == 's' && (bytes[3] & ENCRYPTED) != 0;
    }

    /**
     * @param sealed a frame {@link #open} accepted
     * @return true when it was sealed under the key this Tomcat seals with now
     */
    boolean isUnderCurrentKey(byte[] sealed) {
        byte[] current = keys.currentId().getBytes(StandardCharsets.US_ASCII);
        int length = sealed[4] & 0xFF;
        return length == current.length
                && Arrays.equals(Arrays.copyOfRange(sealed, 5, 5 + length), current);
    }

    /** @param name the storage key prefix and the session id: what the frame belongs to */
    byte[] seal(byte[] clearFrame, String name) {
        String keyId = keys.currentId();
        byte[] id = keyId.getBytes(StandardCharsets.US_ASCII);
        int headerBytes = 4 + 1 + id.length + SALT_BYTES + NONCE_BYTES;
        ByteBuffer out = ByteBuffer.allocate(headerBytes + clearFrame.length + TAG_BITS / 8);
        out.put((byte) 'm').put((byte) 's').put((byte) SessionFrame.VERSION).put((byte) ENCRYPTED);
        out.put((byte) id.length).put(id).put(salt);
        byte[] nonce = ByteBuffer.allocate(NONCE_BYTES).putInt(0).putLong(nonces.incrementAndGet()).array();
        out.put(nonce);
        byte[] result = out.array();
        try {
            Cipher cipher = ciphers.get();
            cipher.init(Cipher.ENCRYPT_MODE, key(keyId, salt), new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(result, 0, headerBytes);
            cipher.updateAAD(name.getBytes(StandardCharsets.UTF_8));
            cipher.doFinal(clearFrame, 0, clearFrame.length, result, headerBytes);
            return result;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed to encrypt", e);
        }
    }

    /** @return the clear frame */
    byte[] open(byte[] sealed, String name) throws NotAuthenticException {
        ByteBuffer in = ByteBuffer.wrap(sealed);
        try {
            in.position(4);
            byte[] id = new byte[in.get() & 0xFF];
            in.get(id);
            byte[] frameSalt = new byte[SALT_BYTES];
            in.get(frameSalt);
            byte[] nonce = new byte[NONCE_BYTES];
            in.get(nonce);
            String keyId = new String(id, StandardCharsets.US_ASCII);
            if (!EncryptionKeys.isKeyId(keyId)) {
                throw new NotAuthenticException("its encryption header names no valid key id");
            }
            SecretKeySpec key = key(keyId, frameSalt);
            if (key == null) {
                throw new NotAuthenticException("it is encrypted under key '" + keyId
                        + "', which the key file no longer holds");
            }
            int headerBytes = in.position();
            Cipher cipher = ciphers.get();
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(sealed, 0, headerBytes);
            cipher.updateAAD(name.getBytes(StandardCharsets.UTF_8));
            return cipher.doFinal(sealed, headerBytes, sealed.length - headerBytes);
        } catch (AEADBadTagException e) {
            throw new NotAuthenticException("it fails authentication: changed in memcached, or copied there"
                    + " from another session");
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new NotAuthenticException("its encryption header is damaged (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** @return null when the file holds no key of that id */
    private SecretKeySpec key(String keyId, byte[] frameSalt) {
        byte[] master = keys.key(keyId);
        if (master == null) {
            return null;
        }
        String saltText = Base64.getEncoder().encodeToString(frameSalt);
        String cacheKey = keyId + ':' + saltText;
        SecretKeySpec key = derived.get(cacheKey);
        if (key == null) {
            if (derived.size() >= MAX_DERIVED) {
                derived.clear(); // salts of old Tomcat starts; deriving again costs one HMAC
            }
            key = new SecretKeySpec(EncryptionKeys.derive(master, "msm frame key v1 " + saltText), "AES");
            derived.put(cacheKey, key);
        }
        return key;
    }

    private static Cipher newCipher() {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is part of every Java 8 runtime", e);
        }
    }
}

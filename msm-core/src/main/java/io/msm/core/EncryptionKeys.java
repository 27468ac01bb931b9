package io.msm.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.slf4j.Logger;

/**
 * The key file {@code encryptionKeys} names: one key a line, {@code <keyId>:<base64 of 32 random
 * bytes>}; blank lines and lines starting with {@code #} are skipped. The first key encrypts, every
 * key decrypts. One optional line {@code names:<base64 of 32 bytes>} holds the secret that turns
 * session ids into memcached key names; without it the first key's bytes do. Names must not change
 * while sessions live: a rotation first writes the first key's value on a {@code names} line.
 * Key bytes never leave this class in text: messages name the file, the line and the key id.
 */
public final class EncryptionKeys {
    private static final Logger LOG = Logs.get(EncryptionKeys.class);
    static final int KEY_BYTES = 32;
    static final String NAMES_ID = "names";
    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,32}");
    private static final String FORM = "<keyId>:<base64 of 32 random bytes>, for instance made with"
            + " printf 'k1:%s\\n' \"$(head -c 32 /dev/urandom | base64)\"";

    /** Key ids in file order to their bytes: the first encrypts. */
    private final Map<String, byte[]> keys;
    private final byte[] namesSecret;
    private final String path;

    private EncryptionKeys(Map<String, byte[]> keys, byte[] namesSecret, String path) {
        this.keys = keys;
        this.namesSecret = namesSecret;
        this.path = path;
    }

    /**
     * @param errors receives one line per problem, naming the attribute, the file and the line
     * @return null when the file cannot be used
     */
    static EncryptionKeys read(String attribute, String file, List<String> errors) {
        Path p = Paths.get(file);
        List<String> lines;
        try {
            lines = Files.readAllLines(p, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            errors.add(attribute + ": the key file " + file + " cannot be read (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); write the path of a file with one"
                    + " line " + FORM);
            return null;
        }
        if (!lines.isEmpty() && lines.get(0).startsWith("\uFEFF")) {
            lines.set(0, lines.get(0).substring(1)); // a byte order mark some editors write: not part of line 1
        }
        warnOfLoosePermissions(attribute, p);
        Map<String, byte[]> keys = new LinkedHashMap<>();
        byte[] names = null;
        int before = errors.size();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = attribute + ": line " + (i + 1) + " of " + file;
            int colon = line.indexOf(':');
            String id = colon < 0 ? "" : line.substring(0, colon).trim();
            if (colon < 0 || !KEY_ID.matcher(id).matches()) {
                errors.add(where + " does not start with a key id (1 to 32 letters, digits, '.', '_' or '-') and ':';"
                        + " write " + FORM);
                continue;
            }
            byte[] key;
            try {
                key = Base64.getDecoder().decode(line.substring(colon + 1).trim());
            } catch (IllegalArgumentException e) {
                errors.add(where + ": the key of '" + id + "' is not base64; write " + FORM);
                continue;
            }
            if (key.length != KEY_BYTES) {
                errors.add(where + ": the key of '" + id + "' holds " + key.length + " bytes, not " + KEY_BYTES
                        + "; write " + FORM);
            } else if (id.equals(NAMES_ID) ? names != null : keys.containsKey(id)) {
                errors.add(where + ": the key id '" + id + "' appears twice; give every key its own id");
            } else if (id.equals(NAMES_ID)) {
                names = key;
            } else {
                keys.put(id, key);
            }
        }
        if (keys.isEmpty() && errors.size() == before) {
            errors.add(attribute + ": the key file " + file + " holds no key; write one line " + FORM);
        }
        if (errors.size() > before) {
            return null;
        }
        if (names == null && keys.size() > 1) {
            LOG.warn("{}: the key file {} holds {} keys and no names: line; the first key names sessions in"
                    + " memcached, so moving another key to the top logs every user out. Add the line"
                    + " names:<the base64 of the key that was first when sessions were stored> (README, Security)",
                    attribute, file, keys.size());
        }
        return new EncryptionKeys(keys, names != null ? names : keys.values().iterator().next(), file);
    }

    /**
     * A file group or others can read lets more people than Tomcat decrypt sessions. One they can
     * write, or in a directory they can write, lets them put in a key they know: after Tomcat's next
     * start, whoever can also write memcached plants sessions it accepts.
     */
    private static void warnOfLoosePermissions(String attribute, Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            String readers = beyondTheOwner(perms, PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
            if (readers != null) {
                LOG.warn("{}: the key file {} can be read by {}: whoever can read it can decrypt every session;"
                        + " chmod 600 it, owned by the user Tomcat runs as", attribute, file, readers);
            }
            String writers = beyondTheOwner(perms, PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);
            if (writers != null) {
                LOG.warn("{}: the key file {} can be changed by {}: whoever can write it can put in a key they know;"
                        + " chmod 600 it, owned by the user Tomcat runs as", attribute, file, writers);
            }
            Path dir = file.toAbsolutePath().getParent();
            String dirWriters = dir == null ? null : beyondTheOwner(Files.getPosixFilePermissions(dir),
                    PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);
            if (dirWriters != null) {
                LOG.warn("{}: the directory {} of the key file can be written by {}: whoever can write there can"
                        + " replace the file with one holding a key they know; keep it in a directory only the user"
                        + " Tomcat runs as (or root) can write", attribute, dir, dirWriters);
            }
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: nothing to check
        }
    }

    /** @return who besides the owner holds the permission, for a log line; null: nobody */
    private static String beyondTheOwner(Set<PosixFilePermission> perms, PosixFilePermission group,
            PosixFilePermission others) {
        return perms.contains(others) ? "every user of this machine" : perms.contains(group) ? "its group" : null;
    }

    /** @return true for text that can be a key id: bytes read from memcached are checked before they are logged */
    static boolean isKeyId(String text) {
        return KEY_ID.matcher(text).matches();
    }

    /** @return the id of the key new frames are encrypted with */
    String currentId() {
        return keys.keySet().iterator().next();
    }

    /** @return the key's bytes, or null when the file holds no key of that id (any more) */
    byte[] key(String id) {
        return keys.get(id);
    }

    /** @return the key ids in file order, for the start-up log: never the keys */
    public List<String> ids() {
        return Collections.unmodifiableList(new ArrayList<>(keys.keySet()));
    }

    public String path() {
        return path;
    }

    /** A key for one purpose, derived so that no two purposes ever share key bytes. */
    static byte[] derive(byte[] key, String purpose) {
        return hmac(key).doFinal(purpose.getBytes(StandardCharsets.UTF_8));
    }

    /** @return an HMAC-SHA256 keyed with the key; one per thread where it is used often */
    static Mac hmac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }

    /** @return the key of the tags on validity records: from the names secret, which no rotation changes */
    byte[] validityKey() {
        return derive(namesSecret, "msm validity records v1");
    }

    /**
     * @return what Tomcats of one cluster compare to find that their key files name sessions alike,
     *     without telling anything of the secret: a keyed hash of a label, short
     */
    String namesFingerprint() {
        return fingerprint(derive(namesSecret, "msm names fingerprint v1"));
    }

    /** @return the fingerprint of the key new frames are encrypted with, as {@link #keyFingerprints} gives it */
    String currentKeyFingerprint() {
        return keyFingerprint(currentId());
    }

    /** @return a fingerprint of each key of the file, its id and its bytes, which tells nothing of the key */
    java.util.Set<String> keyFingerprints() {
        java.util.Set<String> all = new java.util.HashSet<>();
        for (String id : keys.keySet()) {
            all.add(keyFingerprint(id));
        }
        return all;
    }

    private String keyFingerprint(String id) {
        return fingerprint(derive(keys.get(id), "msm key fingerprint v1 " + id));
    }

    /** Short: two Tomcats' files compared, not an authenticator. */
    private static String fingerprint(byte[] hash) {
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(hash, 9));
    }

    /** @return the secret of the keyed hash that names sessions in memcached */
    byte[] namesKey() {
        return derive(namesSecret, "msm session key names v1");
    }
}

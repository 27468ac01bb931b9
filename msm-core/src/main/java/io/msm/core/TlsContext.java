package io.msm.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS context of {@code tls="true"}: whom memcached nodes must prove to be (the trust store,
 * or the JVM's default one), and, for nodes that ask for it, who this Tomcat is (the key store).
 * Stores are PKCS12 or JKS, told apart by trying. Every problem names its attribute.
 */
final class TlsContext {
    private final SSLContext context;
    private final boolean verifyHostnames;
    private final String description;

    private TlsContext(SSLContext context, boolean verifyHostnames, String description) {
        this.context = context;
        this.verifyHostnames = verifyHostnames;
        this.description = description;
    }

    /** For the start-up log: the files, never a password. */
    @Override
    public String toString() {
        return description;
    }

    SSLContext sslContext() {
        return context;
    }

    boolean verifyHostnames() {
        return verifyHostnames;
    }

    /**
     * @param trustStore null: the JVM's default trust store
     * @param keyStore null: no client certificate
     * @return null after adding problems to {@code errors}
     */
    static TlsContext build(String trustStore, String trustPassword, String keyStore, String keyPassword,
            boolean verifyHostnames, List<String> errors) {
        int before = errors.size();
        KeyStore trust = trustStore == null ? null
                : load(Settings.TLS_TRUST_STORE_FILE, trustStore, trustPassword, errors);
        KeyStore key = keyStore == null ? null : load(Settings.TLS_KEY_STORE_FILE, keyStore, keyPassword, errors);
        if (trust != null && !holdsCertificate(trust)) {
            // Every handshake would fail ("trustAnchors parameter must be non-empty"): every node down.
            errors.add(Settings.TLS_TRUST_STORE_FILE + ": " + trustStore + " holds no certificate; import the CA that"
                    + " signed memcached's certificate (keytool -importcert -alias memcached-ca -file ca.pem -keystore "
                    + trustStore + ")");
        }
        if (key != null && !holdsPrivateKey(key)) {
            // No client certificate would be sent: a node with ssl_verify_mode=2 refuses every handshake,
            // one without it silently runs without the mutual TLS the operator wrote.
            errors.add(Settings.TLS_KEY_STORE_FILE + ": " + keyStore + " holds no private key (a certificate alone is"
                    + " not a client certificate); write a store with the client's certificate and its key, made"
                    + " e.g. with openssl pkcs12 -export -in client.pem -inkey client.key -out client.p12, the key's"
                    + " password equal to " + Settings.TLS_KEY_STORE_PASSWORD);
        }
        if (errors.size() > before) {
            return null;
        }
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust); // null: the JVM's default CAs
            KeyManagerFactory kmf = null;
            if (key != null) {
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(key, password(keyPassword));
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return new TlsContext(context, verifyHostnames, "trust store " + (trustStore == null ? "of the JVM"
                    : trustStore) + (keyStore == null ? "" : ", client certificate from " + keyStore) + ", host names "
                    + (verifyHostnames ? "verified" : "NOT verified"));
        } catch (GeneralSecurityException e) {
            errors.add((key != null ? Settings.TLS_KEY_STORE_FILE : Settings.TLS_TRUST_STORE_FILE)
                    + ": the TLS context cannot be built from it (" + e.getMessage() + ")");
            return null;
        }
    }

    private static KeyStore load(String attribute, String file, String password, List<String> errors) {
        Exception last = null;
        for (String type : new String[] {"PKCS12", "JKS"}) {
            try (InputStream in = Files.newInputStream(Paths.get(file))) {
                KeyStore store = KeyStore.getInstance(type);
                store.load(in, password(password));
                return store;
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                last = e;
                if (e instanceof java.nio.file.NoSuchFileException || e instanceof java.nio.file.AccessDeniedException) {
                    break;
                }
            }
        }
        String reason = last instanceof java.nio.file.NoSuchFileException ? "no such file"
                : last instanceof java.nio.file.AccessDeniedException ? "not readable by the user Tomcat runs as"
                : "not a PKCS12 or JKS store this password opens (" + last.getMessage() + ")";
        errors.add(attribute + ": " + file + " cannot be used: " + reason + "; write the path of a PKCS12 or JKS"
                + " store and its password in " + attribute.replace("File", "Password"));
        return null;
    }

    private static boolean holdsCertificate(KeyStore store) {
        return anyEntry(store, (s, alias) -> s.getCertificate(alias) != null);
    }

    private static boolean holdsPrivateKey(KeyStore store) {
        return anyEntry(store, KeyStore::isKeyEntry);
    }

    private interface EntryTest {
        boolean test(KeyStore store, String alias) throws GeneralSecurityException;
    }

    /** @return true when an entry passes, or when the store cannot say: the handshake will */
    private static boolean anyEntry(KeyStore store, EntryTest test) {
        try {
            for (java.util.Enumeration<String> aliases = store.aliases(); aliases.hasMoreElements();) {
                if (test.test(store, aliases.nextElement())) {
                    return true;
                }
            }
            return false;
        } catch (GeneralSecurityException e) {
            return true;
        }
    }

    private static char[] password(String password) {
        return password == null ? new char[0] : password.toCharArray();
    }
}

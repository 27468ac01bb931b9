package io.msm.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made at test time with the {@code openssl} and {@code keytool} commands: a CA, and
 * certificates it signs for a memcached server (with the host names and addresses asked for) and
 * for a client. Each is valid for two days; nothing is kept between test runs.
 */
public final class TestCertificates {
    public static final String STORE_PASSWORD = "changeit";
    private static final long COMMAND_TIMEOUT_SECONDS = 60;

    private final Path dir;
    private final String name;

    private TestCertificates(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** A new CA in its own temporary folder; {@code name} tells CAs apart in file names and subjects. */
    public static TestCertificates newCa(String name) {
        try {
            Path dir = Files.createTempDirectory("msm-tls-" + name + "-");
            TestCertificates ca = new TestCertificates(dir, name);
            ca.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=msm test CA " + name, "-keyout", ca.file("ca.key"), "-out", ca.file("ca.pem"));
            return ca;
        } catch (IOException e) {
            throw new AssertionError("no folder for test certificates: " + e.getMessage(), e);
        }
    }

    /** @return the CA's certificate, PEM: memcached's {@code ssl_ca_cert} */
    public Path caPem() {
        return dir.resolve("ca.pem");
    }

    /** @return a PKCS12 trust store holding this CA, password {@link #STORE_PASSWORD} */
    public Path trustStore() {
        Path store = dir.resolve("trust.p12");
        if (!Files.exists(store)) {
            run("keytool", "-importcert", "-noprompt", "-alias", "ca-" + name, "-file", file("ca.pem"), "-keystore",
                    store.toString(), "-storetype", "PKCS12", "-storepass", STORE_PASSWORD);
        }
        return store;
    }

    /** A certificate and key signed by this CA, in PEM: {@code [0]} certificate, {@code [1]} key. */
    public Path[] signed(String certName, String subjectAltNames) {
        String key = file(certName + ".key");
        String csr = file(certName + ".csr");
        String pem = file(certName + ".pem");
        String ext = file(certName + ".ext");
        try {
            Files.write(dir.resolve(certName + ".ext"), ("subjectAltName=" + subjectAltNames + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + certName, "-keyout", key, "-out", csr);
        run("openssl", "x509", "-req", "-in", csr, "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
                "-days", "2", "-extfile", ext, "-out", pem);
        return new Path[] {dir.resolve(certName + ".pem"), dir.resolve(certName + ".key")};
    }

    /** @return a PKCS12 key store with a client certificate signed by this CA, password {@link #STORE_PASSWORD} */
    public Path clientKeyStore(String certName) {
        Path[] cert = signed(certName, "DNS:" + certName);
        Path store = dir.resolve(certName + ".p12");
        run("openssl", "pkcs12", "-export", "-in", cert[0].toString(), "-inkey", cert[1].toString(), "-name", certName,
                "-out", store.toString(), "-passout", "pass:" + STORE_PASSWORD);
        return store;
    }

    private String file(String fileName) {
        return dir.resolve(fileName).toString();
    }

    private void run(String... command) {
        List<String> cmd = new ArrayList<>(List.of(command));
        cmd.set(0, binary(command[0]));
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " failed: " + output);
            }
        } catch (IOException e) {
            throw new AssertionError(command[0] + " could not be run: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + command[0], e);
        }
    }

    private static String binary(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            File candidate = new File(d, name);
            if (candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        File javaHomeTool = new File(System.getProperty("java.home"), "bin/" + name);
        if (javaHomeTool.canExecute()) {
            return javaHomeTool.getPath();
        }
        throw new AssertionError(name + " is missing, and the TLS tests need it to make certificates; install it"
                + " with: apt-get install -y openssl (keytool comes with the JDK)");
    }
}

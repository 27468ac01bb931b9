package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * A sticky Tomcat left beside non-sticky ones of the same webapp says so, and so do they; so do a Tomcat
 * left without encryptionKeys beside encrypting ones, and Tomcats with different key files; against
 * real memcached.
 */
class ModeCheckIT {
    @TempDir
    Path dir;
    private MemcachedServer n1;
    private MemcachedServer n2;
    private SessionEngine first;
    private SessionEngine second;

    @BeforeEach
    void startMemcached() {
        n1 = MemcachedServer.start();
        n2 = MemcachedServer.start();
    }

    @AfterEach
    void stop() {
        try {
            for (SessionEngine e : new SessionEngine[] {first, second}) {
                if (e != null) {
                    e.close();
                }
            }
        } finally {
            try {
                n1.close();
            } finally {
                n2.close();
            }
        }
    }

    private SessionEngine engine(boolean sticky, String webapp, String... more) throws Exception {
        Map<String, String> attributes = new HashMap<>(Map.of("memcachedNodes", n1.node("n1") + "," + n2.node("n2"),
                "sticky", String.valueOf(sticky)));
        for (int i = 0; i < more.length; i += 2) {
            attributes.put(more[i], more[i + 1]);
        }
        SessionEngine e = SessionEngine.start(Settings.parse(attributes), new SessionEngineIT.StringMapTranscoder(),
                List.of(), "test_", webapp, Clock.systemUTC());
        Await.until("both nodes up", Duration.ofSeconds(15), () -> e.nodeStatus().stream().allMatch(NodeStatus::up));
        return e;
    }

    /** @return what the start line says of this key file */
    private String startLine(String keyFile) throws Exception {
        return Settings.parse(Map.of("memcachedNodes", n1.node("n1"), "encryptionKeys", keyFile)).describe()
                .get(Settings.ENCRYPTION_KEYS);
    }

    private static long differences(SessionEngine e) {
        return e.statistics().get(Statistics.Counter.MODES_DIFFERENT);
    }

    private static long encryptionDifferences(SessionEngine e) {
        return e.statistics().get(Statistics.Counter.ENCRYPTION_DIFFERENT);
    }

    private String keyFile(String name) throws IOException {
        return keyFile(name, "k1:" + newKey());
    }

    private String keyFile(String name, String... lines) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file.toString();
    }

    private static String newKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    private void checkBothTwice() {
        first.checkMode();
        second.checkMode();
        first.checkMode();
    }

    /** A Tomcat forgotten when the cluster switched encryption on writes patient data in clear, and nobody reads it. */
    @Test
    void aClearTomcatBesideAnEncryptingOneBothSaySo() throws Exception {
        first = engine(true, "/app", "encryptionKeys", keyFile("keys"));
        second = engine(true, "/app");
        checkBothTwice();
        assertEquals(2, encryptionDifferences(first), "found the clear one's mark on both nodes");
        assertEquals(2, encryptionDifferences(second), "and the clear one the other's");
        assertEquals(0, differences(first) + differences(second), "same mode");
    }

    /**
     * Every Tomcat reads the odd one's mark, so every Tomcat logs the ERROR: its line shows both sides'
     * fingerprints, which each start line shows too, so that the operator finds the Tomcat that differs.
     */
    @Test
    void keyFilesWithAnotherNamesSecretAreToldWithTheirFingerprints() throws Exception {
        try (JulCapture log = JulCapture.of(ModeCheck.class)) {
            String fileA = keyFile("keys-a");
            String fileB = keyFile("keys-b");
            first = engine(false, "/app", "encryptionKeys", fileA);
            second = engine(false, "/app", "encryptionKeys", fileB);
            checkBothTwice();
            assertEquals(2, encryptionDifferences(first));
            assertEquals(2, encryptionDifferences(second));
            String firstPrints = startLine(fileA);
            String secondPrints = startLine(fileB);
            String a = firstPrints.substring(firstPrints.indexOf("names:"), firstPrints.length() - 1);
            String b = secondPrints.substring(secondPrints.indexOf("names:"), secondPrints.length() - 1);
            assertNotEquals(a, b, "the start lines tell the two files apart");
            String line = log.lines().stream().filter(l -> l.contains("another key file")).findFirst().orElseThrow();
            assertTrue(line.contains("sealed:" + a.substring("names:".length())) && line.contains(
                    "sealed:" + b.substring("names:".length())), line + "\n" + a + "\n" + b);
        }
    }

    /**
     * A key rotation (README): step 1 adds the new key second, step 2 moves it first. A Tomcat that skipped
     * step 1 refuses what the others encrypt under the new key, and is told; the steps themselves are quiet.
     */
    @Test
    void aTomcatWithoutTheKeyTheOthersEncryptWithIsToldAndARotationsStepsAreQuiet() throws Exception {
        String k1 = newKey();
        String k2 = newKey();
        String before = keyFile("before", "k1:" + k1);
        first = engine(true, "/app", "encryptionKeys", before);
        second = engine(true, "/app", "encryptionKeys", keyFile("step1", "names:" + k1, "k1:" + k1, "k2:" + k2));
        checkBothTwice();
        assertEquals(0, encryptionDifferences(first) + encryptionDifferences(second), "step 1 beside the file before");

        second.close();
        second = engine(true, "/app", "encryptionKeys", keyFile("step2", "names:" + k1, "k2:" + k2, "k1:" + k1));
        checkBothTwice();
        assertEquals(2, encryptionDifferences(first), "step 1 skipped: the new key is not in its file");
        assertEquals(0, encryptionDifferences(second), "it reads what the one that skipped step 1 writes");
    }

    /** While encryption is switched on (readUnencryptedSessions), clear and encrypting Tomcats are expected. */
    @Test
    void switchingEncryptionOnIsQuietAndTheSameFileIsQuiet() throws Exception {
        String keys = keyFile("keys");
        first = engine(true, "/app", "encryptionKeys", keys, "readUnencryptedSessions", "true");
        second = engine(true, "/app");
        checkBothTwice();
        assertEquals(0, encryptionDifferences(first) + encryptionDifferences(second), "migrating beside clear");
        second.close();
        second = engine(true, "/app", "encryptionKeys", keys);
        checkBothTwice();
        assertEquals(0, encryptionDifferences(first) + encryptionDifferences(second), "the same file");
    }

    @Test
    void aStickyAndANonStickyTomcatOfOneWebappBothSaySo() throws Exception {
        first = engine(true, "/app");
        second = engine(false, "/app");
        first.checkMode();
        second.checkMode();
        first.checkMode();

        assertEquals(2, differences(second), "found the sticky one's mark on both nodes");
        assertEquals(2, differences(first), "and the sticky one the other's");
    }

    /** An operator stops a Tomcat, switches its mode and starts it again: its own mark from before is gone. */
    @Test
    void aTomcatSwitchedAndStartedAgainDoesNotFindItsOwnMark() throws Exception {
        first = engine(true, "/app");
        first.checkMode();
        first.close();
        first = null;
        second = engine(false, "/app");
        second.checkMode();
        assertEquals(0, differences(second));
    }

    @Test
    void tomcatsOfOneModeAndWebappsOfTheirOwnAreQuiet() throws Exception {
        first = engine(false, "/app");
        second = engine(false, "/app");
        SessionEngine other = engine(true, "/other");
        try {
            first.checkMode();
            second.checkMode();
            other.checkMode();
            first.checkMode();
            assertEquals(0, differences(first) + differences(second) + differences(other));
        } finally {
            other.close();
        }
    }
}

package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.msm.core.SessionId;
import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * encryptionKeys against real memcached: someone who reads every key and value of both nodes
 * learns no attribute, no user name and no working session id; what someone writes there is not
 * read as a session; and the keys rotate under a running cluster without logging anyone out.
 */
class EncryptionIT extends ClusterTest {
    private static final String MARKER = "PHI-MARKER-48151623";

    @TempDir
    Path dir;

    private static String newKey(String id) {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return id + ":" + Base64.getEncoder().encodeToString(key);
    }

    private String keyFile(String name, String... lines) {
        try {
            Path file = dir.resolve(name);
            Files.write(file, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            return file.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sticky Tomcats back up before answering here: another Tomcat that loaded a session before the
     * backup of its last change would go on with the older copy, as after any failover in async mode.
     */
    private TomcatNode tomcat(String route, String... attributes) {
        List<String> all = new ArrayList<>(List.of(attributes));
        if (!all.contains("sticky")) {
            all.addAll(List.of("sessionBackupAsync", "false", "sessionBackupTimeout", "5000"));
        }
        return started(new TomcatNode(route).webapp(APP, manager(all.toArray(new String[0])), "FORM"));
    }

    /**
     * Logs alice in on the given Tomcat and puts the marker in her session; returns every id she had.
     * Sticky: Tomcat's FORM login. Non-sticky: {@code HttpServletRequest.login}, since Tomcat keeps a
     * FORM login's saved request in a session note, which only lives in one Tomcat's memory.
     */
    private static Set<String> logInAndSetMarker(Browser user, TomcatNode tomcat, boolean sticky) {
        Set<String> ids = new LinkedHashSet<>();
        if (sticky) {
            assertTrue(user.get(tomcat.url("/app/secure/get")).body().contains("login-form"));
            ids.add(user.sessionId());
            Browser.Page login = user.postForm(tomcat.url("/app/j_security_check"), "j_username=alice&j_password=secret");
            assertEquals(303, login.status(), "FORM login redirects back: " + login.body());
        } else {
            user.get(tomcat.url("/app/s/set?before=login"));
            ids.add(user.sessionId());
            assertEquals("alice", user.get(tomcat.url("/app/s/login?user=alice&password=secret")).get("user"));
        }
        ids.add(user.sessionId());
        Browser.Page page = user.get(tomcat.url("/app/s/set?note=" + MARKER));
        assertEquals("alice", page.get("user"));
        ids.add(user.sessionId());
        return ids;
    }

    /** Reads the session on another Tomcat, once memcached has it, and follows a new id as a browser does. */
    private static void awaitReadOn(TomcatNode other, Browser user) {
        Await.until("the marker read on " + other.route(), WAIT, () -> {
            Browser probe = withSession(user.sessionId());
            Browser.Page page = probe.get(other.url("/app/s/peek"));
            if (MARKER.equals(page.get("attr.note"))) {
                user.sessionId(probe.sessionId());
                return true;
            }
            return false;
        });
    }

    /** Every key and every value both memcached nodes hold, as memcached's own dump lists them. */
    private String dump() {
        StringBuilder sb = new StringBuilder();
        for (MemcachedServer server : new MemcachedServer[] {n1, n2}) {
            for (String key : server.keys()) {
                byte[] value = server.get(key);
                sb.append(key).append(" = ").append(value == null ? "" : new String(value, StandardCharsets.ISO_8859_1))
                        .append('\n');
            }
        }
        return sb.toString();
    }

    @ParameterizedTest(name = "sticky={0}, encrypted={1}")
    @CsvSource({"true,true", "false,true", "true,false", "false,false"})
    void aDumpOfMemcachedHoldsNoAttributeNoUserNameAndNoSessionId(boolean sticky, boolean encrypted) {
        List<String> attributes = new ArrayList<>(sticky ? List.of("sessionBackupAsync", "false",
                "sessionBackupTimeout", "5000") : List.of("sticky", "false"));
        if (encrypted) {
            attributes.addAll(List.of("encryptionKeys", keyFile("keys", newKey("k1"))));
        }
        String[] attrs = attributes.toArray(new String[0]);
        TomcatNode tomcat1 = tomcat("tomcat1", attrs);
        TomcatNode tomcat2 = tomcat("tomcat2", attrs);
        Browser user = new Browser();
        Set<String> ids = logInAndSetMarker(user, tomcat1, sticky);

        // What memcached holds is what another Tomcat reads: the marker is in there, whatever form it has.
        awaitReadOn(tomcat2, user);
        ids.add(user.sessionId());
        assertEquals("alice", user.get(tomcat2.url("/app/s/get")).get("user"), "still logged in");

        if (!encrypted) {
            // The same reading without encryption finds everything: the checks below can fail.
            Await.until("the marker readable in memcached", WAIT, () -> dump().contains(MARKER));
            String dump = dump();
            assertTrue(dump.contains("alice"), dump);
            assertTrue(ids.stream().anyMatch(id -> dump.contains(SessionId.parse(id).random())), dump);
            // Tomcat 9 serializes the realm's principal with its password: msm stores it without.
            assertFalse(dump.contains("secret"), "alice's password is in memcached: " + dump);
            assertFalse(user.get(tomcat2.url("/app/secure/get")).body().contains("login-form"),
                    "the principal taken over keeps alice's role");
            return;
        }
        String dump = dump();
        assertTrue(dump.lines().count() >= 2, "sessions are there: " + dump);
        assertFalse(dump.contains(MARKER), dump);
        assertFalse(dump.contains("alice"), dump);
        for (String id : ids) {
            String random = SessionId.parse(id).random();
            assertFalse(dump.contains(random) || dump.contains(random.toLowerCase()), "id " + id + " in " + dump);
        }
    }

    @Test
    void aSessionChangedInMemcachedIsRefused_theUserGetsTheLoginForm() {
        String keys = keyFile("keys", newKey("k1"));
        TomcatNode tomcat1 = tomcat("tomcat1", "encryptionKeys", keys);
        TomcatNode tomcat2 = tomcat("tomcat2", "encryptionKeys", keys);
        Browser user = new Browser();
        logInAndSetMarker(user, tomcat1, true);
        awaitReadOn(tomcat2, user);
        tomcat2.close(); // the session now lives in memcached only
        TomcatNode tomcat3 = tomcat("tomcat3", "encryptionKeys", keys);

        for (MemcachedServer server : new MemcachedServer[] {n1, n2}) {
            for (String key : server.keys()) {
                byte[] value = server.get(key);
                if (isSealed(value)) {
                    value[value.length - 20] ^= 1;
                    server.set(key, value, 3600);
                }
            }
        }
        tomcat1.close();
        assertTrue(user.get(tomcat3.url("/app/secure/get")).body().contains("login-form"));
        assertEquals(1, count(tomcat3, Counter.UNAUTHENTIC_SESSIONS));
    }

    private static boolean isSealed(byte[] value) {
        return value != null && value.length > 4 && value[0] == 'm' && value[1] == 's' && (value[3] & 1) != 0;
    }

    /**
     * Two passes over a running non-sticky cluster, each Tomcat restarted in turn: first every Tomcat
     * learns k2 (k1 still encrypts), then k2 encrypts; k1 goes once every session was written again.
     * Users make requests on both Tomcats between the steps and must never see the login form, also
     * those whose requests only read their sessions.
     */
    @Test
    void keysRotateOverARunningClusterWithoutLoggingAnyoneOut() {
        String k1 = newKey("k1");
        String k2 = newKey("k2");
        String names = "names:" + k1.substring("k1:".length()); // what the file without it used: its first key
        String[] files = {keyFile("a", k1), keyFile("b", k1, k2, names), keyFile("c", k2, k1, names),
            keyFile("d", k2, names)};
        TomcatNode[] tomcats = {tomcat("tomcat1", "sticky", "false", "encryptionKeys", files[0]),
            tomcat("tomcat2", "sticky", "false", "encryptionKeys", files[0])};
        List<Browser> users = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Browser user = new Browser();
            logInAndSetMarker(user, tomcats[i % 2], false);
            users.add(user);
        }
        int step = 0;
        for (int pass = 1; pass <= 3; pass++) {
            for (int t = 0; t < 2; t++) {
                tomcats[t].close();
                tomcats[t] = tomcat("tomcat" + (t + 1), "sticky", "false", "encryptionKeys", files[pass]);
                step++;
                for (int u = 0; u < users.size(); u++) {
                    // Half of them only read (viewing images): their sessions change no more after login.
                    String request = u % 2 == 0 ? "/app/s/set?step=" + step : "/app/s/get";
                    for (TomcatNode tomcat : tomcats) {
                        Browser.Page page = users.get(u).get(tomcat.url(request));
                        assertEquals("alice", page.get("user"), "user " + u + " after step " + step + " on "
                                + tomcat.route() + ": " + page.body());
                        assertEquals(MARKER, page.get("attr.note"));
                    }
                }
            }
        }
        for (TomcatNode tomcat : tomcats) {
            assertEquals(0, count(tomcat, Counter.UNAUTHENTIC_SESSIONS));
        }
    }
}

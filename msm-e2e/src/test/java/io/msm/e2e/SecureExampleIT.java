package io.msm.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.testkit.MemcachedServer;
import io.msm.testkit.TestCertificates;

/**
 * conf-examples/tomcat/xnat-secure.xml as an operator installs it, per Tomcat line: memcached with
 * TLS and SASL, the passwords in catalina.properties behind {@code ${...}}, and a key file. A user
 * logged in on one Tomcat is still logged in on the other after the first stops, so the session
 * went through memcached over TLS, authenticated and encrypted; neither Tomcat logs a WARNING.
 */
class SecureExampleIT extends DistributionTest {
    private static final String SASL_USER = "xnat"; // as the example names it
    private static final String SASL_PASSWORD = "sasl-7d2f";

    @ParameterizedTest(name = "{0}")
    @MethodSource("lines")
    void theSecureExampleKeepsAUserLoggedInAcrossTomcats(TomcatLine line) throws Exception {
        TestCertificates ca = TestCertificates.newCa("e2e");
        MemcachedServer[] nodes = new MemcachedServer[2];
        for (int i = 0; i < 2; i++) {
            Path[] cert = ca.signed("mc" + (i + 1), "IP:127.0.0.1");
            nodes[i] = track(MemcachedServer.startWithSasl(SASL_USER, SASL_PASSWORD,
                    MemcachedServer.tlsArgs(cert[0], cert[1], null)));
        }
        Path keys = dir.resolve("keys");
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.write(keys, ("k1:" + Base64.getEncoder().encodeToString(key) + "\n").getBytes(StandardCharsets.US_ASCII));
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-------"));

        // sessionBackupAsync="false": the response to the change comes after its backup, so the test
        // needs no look into memcached, which speaks only TLS and SASL here. The default wait for it
        // (100 ms) can run out on a busy machine, and the answer go out before the copy is stored.
        String xml = ContextExample.render(ContextExample.SECURE, nodes[0], nodes[1],
                "sessionBackupAsync=\"false\" sessionBackupTimeout=\"10000\"");
        xml = ContextExample.withFile(xml, ContextExample.SECURE, "/etc/msm/truststore.p12", ca.trustStore());
        xml = ContextExample.withFile(xml, ContextExample.SECURE, "/etc/msm/keys", keys);
        Map<String, String> secrets = Map.of("msm.memcached.password", SASL_PASSWORD,
                "msm.truststore.password", TestCertificates.STORE_PASSWORD);
        Path webapp = E2eWebapp.build(line, dir.resolve("app"));
        TomcatInstance tomcat1 = track(TomcatInstance.start(line, "tomcat1", dir.resolve("tomcat1"), webapp, xml, secrets));
        TomcatInstance tomcat2 = track(TomcatInstance.start(line, "tomcat2", dir.resolve("tomcat2"), webapp, xml, secrets));

        // A form sent after the session ended gets the login page; after the login, the balancer sends the
        // redirect to the other Tomcat, which sends the form on from what the login stored.
        WebUser late = new WebUser();
        assertTrue(late.post(tomcat1.url("/xnat/secure/s"), "op=set&sent=before-login").body().contains("login-form"));
        WebUser.Page lateLogin = late.post(tomcat1.url("/xnat/j_security_check"), "j_username=alice&j_password=secret");
        assertEquals(3, lateLogin.status() / 100, lateLogin.body());
        WebUser.Page replay = late.get(tomcat2.url("/xnat/secure/s"));
        assertEquals("alice", replay.get("user"), replay.body());
        assertEquals("before-login", replay.get("attr.sent"), "the form sent on after the login: " + replay.body());

        WebUser user = new WebUser();
        assertTrue(user.get(tomcat1.url("/xnat/secure/s")).body().contains("login-form"), "the login page first");
        WebUser.Page login = user.post(tomcat1.url("/xnat/j_security_check"), "j_username=alice&j_password=secret");
        assertEquals(3, login.status() / 100, "FORM login redirects back (303; Tomcat 7: 302): " + login.body());
        WebUser.Page set = user.get(tomcat1.url("/xnat/secure/s?op=set&name=alice&form=half-filled"));
        assertEquals("alice", set.get("user"), set.body());

        // Checked while it runs: Tomcat 7 on Java 17 warns at every webapp stop of a cache it cannot clear.
        assertEquals(List.of(), tomcat1.warnings(), "warnings of tomcat1; the console: " + tomcat1.consoleLog());
        tomcat1.close();
        WebUser.Page after = user.get(tomcat2.url("/xnat/secure/s"));
        assertEquals("alice", after.get("user"), "still logged in: " + after.body());
        assertEquals("half-filled", after.get("attr.form"));

        assertTrue(tomcat2.lastConsole().contains("tls=true (trust store " + ca.trustStore()), tomcat2.lastConsole());
        assertTrue(tomcat2.lastConsole().contains("password=****"), "the password replaced, not logged");
        assertEquals(List.of(), tomcat2.warnings(), "warnings of tomcat2; the console: " + tomcat2.consoleLog());
        assertTrue(!Files.readString(tomcat2.consoleLog()).contains(SASL_PASSWORD), "no password in the console");
    }
}

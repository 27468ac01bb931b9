package io.msm.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * The webapp reloaded (web.xml changed) and redeployed (its context file changed), per Tomcat line.
 * Each time, a session planted in memcached that does not decode must give its WARN in Tomcat's
 * console: msm's classes live in lib/ and outlive the webapp, and their loggers must not be tied to
 * the webapp instance that happened to create them first. Then, with every memcached node killed,
 * a user whose session only memory holds stays logged in through a reload and a redeploy.
 */
class RedeployIT extends DistributionTest {
    private static final Duration DEPLOY = Duration.ofSeconds(60);
    private static final String UNDECODABLE = "does not decode and is treated as missing";

    @ParameterizedTest(name = "{0}")
    @MethodSource("lines")
    void msmLogsAfterEveryReloadAndRedeploy(TomcatLine line) throws Exception {
        MemcachedServer n1 = track(MemcachedServer.start());
        MemcachedServer n2 = track(MemcachedServer.start());
        String xml = ContextExample.render(ContextExample.STICKY, n1, n2, "");
        Path webapp = E2eWebapp.build(line, dir.resolve("app"));
        TomcatInstance tomcat = track(TomcatInstance.startAutoDeploying(line, "tomcat1", dir.resolve("tomcat1"),
                webapp, xml));

        assertUndecodableSessionIsLogged(tomcat, n1, 1);
        touch(tomcat.webappDir().resolve("WEB-INF/web.xml"));
        awaitDeployments(tomcat, 2, "reloaded");
        assertUndecodableSessionIsLogged(tomcat, n1, 2);
        touch(tomcat.contextFile());
        awaitDeployments(tomcat, 3, "redeployed");
        assertUndecodableSessionIsLogged(tomcat, n1, 3);
        touch(tomcat.contextFile());
        awaitDeployments(tomcat, 4, "redeployed again");
        assertUndecodableSessionIsLogged(tomcat, n1, 4);

        n1.kill();
        n2.kill();
        WebUser alice = new WebUser();
        assertEquals("half-filled", alice.get(tomcat.url("/xnat/s?op=set&form=half-filled")).get("attr.form"));
        touch(tomcat.webappDir().resolve("WEB-INF/web.xml"));
        awaitDeployments(tomcat, 5, "reloaded without memcached");
        assertEquals("half-filled", alice.get(tomcat.url("/xnat/s?op=get")).get("attr.form"), "kept over the reload");
        touch(tomcat.contextFile());
        awaitDeployments(tomcat, 6, "redeployed without memcached");
        WebUser.Page after = alice.get(tomcat.url("/xnat/s?op=get"));
        assertEquals("half-filled", after.get("attr.form"), "kept over the redeploy: " + after.body());
        // alice's, and those of the requests that found planted sessions, whose nodes are down now
        assertTrue(java.util.regex.Pattern.compile("took back [1-9][0-9]* session\\(s\\)").matcher(console(tomcat))
                .find(), "the start says so");
    }

    /** A session id of node n1 and this Tomcat, with garbage stored under its key, asked for once. */
    private static void assertUndecodableSessionIsLogged(TomcatInstance tomcat, MemcachedServer n1, int times)
            throws Exception {
        String id = String.format("%032X", times) + "-n1.tomcat1";
        n1.set("localhost_/xnat_" + id, "not a session".getBytes(StandardCharsets.US_ASCII), 600);
        WebUser user = new WebUser();
        WebUser.Page page = user.getWithCookie(tomcat.url("/xnat/s?op=get"), "JSESSIONID=" + id);
        assertEquals(200, page.status(), page.body());
        Await.until(times + " WARN(s) of an undecodable session in the console", Duration.ofSeconds(10),
                () -> count(console(tomcat), UNDECODABLE) >= times);
        assertEquals(times, count(tomcat.console(), UNDECODABLE), "one WARN per planted session");
    }

    /** msm logs its configuration once per start of the webapp. */
    private static void awaitDeployments(TomcatInstance tomcat, int starts, String what) {
        Await.until("the webapp " + what, DEPLOY, () -> count(console(tomcat), "msm for /xnat: {") >= starts
                && tomcat.isAvailable());
    }

    private static String console(TomcatInstance tomcat) {
        try {
            return tomcat.console();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void touch(Path file) throws Exception {
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            n++;
        }
        return n;
    }
}

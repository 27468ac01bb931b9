package io.msm.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Per Tomcat line, the operator's setup end to end: two Tomcat processes from the distribution,
 * the adapter jar in lib/, the context file of conf-examples/tomcat (xnat-sticky.xml or
 * xnat-nonsticky.xml, but for the memcached addresses), two memcached, Apache httpd in front with the
 * balancer configuration of conf-examples/apache. A Tomcat is killed with SIGKILL.
 */
class DistributionFailoverIT extends DistributionTest {
    @ParameterizedTest(name = "{0}, sticky")
    @MethodSource("lines")
    void stickyLoginAndAttributesSurviveKill9OfTheTomcatThatServedThem(TomcatLine line) throws Exception {
        Cluster c = cluster(line, ContextExample.STICKY, "msm-sticky.conf", "");
        WebUser user = new WebUser();
        String secure = c.apache().url("/xnat/secure/s");
        assertTrue(user.get(secure).body().contains("login-form"), "the login page first");
        WebUser.Page login = user.post(c.apache().url("/xnat/j_security_check"), "j_username=alice&j_password=secret");
        assertTrue(login.status() == 302 || login.status() == 303, "login redirects: " + login.status());
        WebUser.Page set = user.get(secure + "?op=set&name=alice&form=half-filled");
        assertEquals("alice", set.get("user"));
        String servedBy = set.get("servedBy");
        TomcatInstance victim = c.tomcat(servedBy);
        c.awaitCopy(set.get("id"), "half-filled"); // the asynchronous backup after the response

        victim.kill();
        WebUser.Page after = user.get(secure);

        assertEquals(200, after.status(), after.body());
        assertNotEquals(servedBy, after.get("servedBy"), "the other Tomcat answers");
        assertEquals("alice", after.get("user"), "still logged in");
        assertEquals("alice", after.get("attr.name"));
        assertEquals("half-filled", after.get("attr.form"));
        assertTrue(after.get("id").endsWith("." + after.get("servedBy")), "route renamed: " + after.get("id"));
        assertTrue(c.other(victim).console().contains("msm for /xnat"), "msm logs through Tomcat's own logging");
    }

    /**
     * Kryo from the one jar in lib/ writes and reads a class of the webapp's own (WEB-INF/classes). And
     * 2.3.2's {@code maxInactiveInterval} on the manager sets the timeout of new sessions on every line:
     * Tomcat 7's own manager ignores that attribute, with a WARN.
     */
    @ParameterizedTest(name = "{0}, sticky with Kryo")
    @MethodSource("lines")
    void kryoInTomcatLibCarriesAWebappClassThroughAKill9(TomcatLine line) throws Exception {
        // Kryo is what this test is about, and no example uses it; nor the timeout.
        Cluster c = cluster(line, ContextExample.STICKY, "msm-sticky.conf",
                "transcoderFactoryClass=\"io.msm.serializers.kryo.KryoTranscoderFactory\" maxInactiveInterval=\"900\"");
        WebUser user = new WebUser();
        WebUser.Page set = user.get(c.apache().url("/xnat/s?op=draft&title=scan-42"));
        assertEquals("Draft(scan-42,[line 1, line 2])", set.get("attr.draft"), set.body());
        assertEquals("900", set.get("maxInactive"), "the manager's maxInactiveInterval, not web.xml's timeout");
        String servedBy = set.get("servedBy");
        TomcatInstance victim = c.tomcat(servedBy);
        c.awaitCopy(set.get("id")); // the asynchronous backup after the response (created by this request)

        victim.kill();
        WebUser.Page after = user.get(c.apache().url("/xnat/s"));

        assertEquals(200, after.status(), after.body());
        assertNotEquals(servedBy, after.get("servedBy"), "the other Tomcat answers");
        assertEquals("Draft(scan-42,[line 1, line 2])", after.get("attr.draft"), "the webapp's object, read by Kryo");
        assertEquals("900", after.get("maxInactive"), "the timeout taken over with the session");
    }

    /**
     * A client that sends back only the session cookie (an XNAT script: {@code curl -b JSESSIONID=…})
     * sticks to one Tomcat by the route at the end of the id, as a browser does. A cookie of Apache's
     * own (ROUTEID) would send it to every Tomcat in turn, each taking the session over from the last.
     */
    @org.junit.jupiter.api.Test
    void aClientThatSendsOnlyTheSessionCookieSticksToOneTomcat() throws Exception {
        TomcatLine line = lines().stream().filter(l -> l.name().equals("10")).findFirst().orElseThrow();
        Cluster c = cluster(line, ContextExample.STICKY, "msm-sticky.conf", "");
        WebUser.Page set = new WebUser().get(c.apache().url("/xnat/s?op=set&form=half-filled"));
        String id = set.get("id");
        String servedBy = set.get("servedBy");
        for (int i = 0; i < 10; i++) {
            WebUser.Page page = new WebUser().getWithCookie(c.apache().url("/xnat/s"), "JSESSIONID=" + id);
            assertEquals(servedBy, page.get("servedBy"), "request " + i + " went elsewhere: " + page.body());
            assertEquals(id, page.get("id"), "never taken over");
            assertEquals("half-filled", page.get("attr.form"));
        }
    }

    /**
     * Tomcat's idle check by the last access (the manager's {@code sessionLastAccessAtStart} from
     * 10.1, the {@code LAST_ACCESS_AT_START} or {@code STRICT_SERVLET_COMPLIANCE} property before):
     * a user who only reads for longer than her timeout keeps her session at a failover. The copy's
     * last access is its last change's, as unchanged requests only push its expiry in memcached
     * forward; Tomcat expired the session taken over at once.
     */
    @org.junit.jupiter.api.Test
    void aStickyReaderPastHerTimeoutKeepsHerSessionAtAFailover_underTheIdleCheckByLastAccess() throws Exception {
        TomcatLine line = lines().stream().filter(l -> l.name().equals("10")).findFirst().orElseThrow();
        Cluster c = cluster(line, ContextExample.STICKY, "msm-sticky.conf",
                "sessionLastAccessAtStart=\"true\" maxInactiveInterval=\"4\"");
        WebUser user = new WebUser();
        WebUser.Page set = user.get(c.apache().url("/xnat/s?op=set&form=half-filled"));
        assertEquals("4", set.get("maxInactive"), set.body());
        String servedBy = set.get("servedBy");
        c.awaitCopy(set.get("id"), "half-filled");
        long readUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(7);
        while (System.nanoTime() < readUntil) {
            WebUser.Page read = user.get(c.apache().url("/xnat/s"));
            assertEquals("half-filled", read.get("attr.form"), "read, never idle: " + read.body());
            assertEquals(servedBy, read.get("servedBy"));
            TimeUnit.MILLISECONDS.sleep(500);
        }

        c.tomcat(servedBy).kill();
        WebUser.Page after = user.get(c.apache().url("/xnat/s"));

        assertEquals(200, after.status(), after.body());
        assertNotEquals(servedBy, after.get("servedBy"), "the other Tomcat answers");
        assertEquals("half-filled", after.get("attr.form"), "her session, taken over: " + after.body());
    }

    @ParameterizedTest(name = "{0}, non-sticky round robin")
    @MethodSource("lines")
    void nonStickyRoundRobinServesEveryRequestFromEitherTomcat_andSurvivesKill9(TomcatLine line) throws Exception {
        Cluster c = cluster(line, ContextExample.NONSTICKY, "msm-nonsticky.conf", "");
        WebUser user = new WebUser();
        Set<String> servers = new HashSet<>();
        for (int i = 1; i <= 10; i++) {
            WebUser.Page page = user.get(c.apache().url("/xnat/s?op=incr"));
            assertEquals(200, page.status(), page.body());
            assertEquals(String.valueOf(i), page.get("attr.counter"));
            servers.add(page.get("servedBy"));
        }
        assertEquals(Set.of("tomcat1", "tomcat2"), servers, "round robin reached both Tomcats");

        c.tomcat1().kill();
        for (int i = 11; i <= 15; i++) {
            WebUser.Page page = user.get(c.apache().url("/xnat/s?op=incr"));
            assertEquals(200, page.status(), page.body());
            assertEquals(String.valueOf(i), page.get("attr.counter"));
        }
    }

    /**
     * Missing icons and pages, as users meet them: the webapp's 404 page uses the session. Through
     * Apache's round robin, on each Tomcat line, with a requestUriIgnorePattern for static files (as a
     * webapp without XNAT's filters may write): the page sees the user's session (a new one would log
     * the user out), and what it notes reaches both Tomcats.
     */
    @ParameterizedTest(name = "{0}, non-sticky error pages")
    @MethodSource("lines")
    void nonStickyErrorPagesSeeTheUsersSession(TomcatLine line) throws Exception {
        Cluster c = cluster(line, ContextExample.NONSTICKY, "msm-nonsticky.conf",
                "requestUriIgnorePattern=\".*\\.(ico|png|css|js)$\"");
        WebUser user = new WebUser();
        String id = user.get(c.apache().url("/xnat/s?op=set&name=alice")).get("id");
        for (String missing : List.of("/xnat/images/missing.png", "/xnat/no-such-page")) {
            WebUser.Page error = user.get(c.apache().url(missing));
            assertEquals(404, error.status(), error.body());
            assertEquals(id, error.get("id"), "the error page of " + missing + " sees the user's session: " + error.body());
            assertEquals("alice", error.get("attr.name"));
        }
        // Stored right after the answer (Tomcat answers before it ends the request): seen within moments.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Set<String> servers = new HashSet<>();
        WebUser.Page page;
        do {
            page = user.get(c.apache().url("/xnat/s?op=look"));
            servers.add(page.get("servedBy"));
        } while ((servers.size() < 2 || !"/xnat/no-such-page".equals(page.get("attr.errorSeen")))
                && System.nanoTime() < deadline);
        assertEquals("/xnat/no-such-page", page.get("attr.errorSeen"), page.body());
        assertEquals(id, page.get("id"));
        assertEquals(Set.of("tomcat1", "tomcat2"), servers, "round robin reached both Tomcats");
    }

    /**
     * A webapp at "/" with the default cookie name makes the browser send two JSESSIONID cookies to
     * /xnat. Tomcat takes the last when it finds neither before any valve, as in non-sticky mode:
     * msm reads them in the order sent, on each Tomcat line, and the user keeps the session.
     */
    @ParameterizedTest(name = "{0}, two session cookies")
    @MethodSource("lines")
    void nonStickyUsersKeepTheSessionBesideARootWebappsCookie(TomcatLine line) throws Exception {
        Cluster c = cluster(line, ContextExample.NONSTICKY, "msm-nonsticky.conf", "");
        String id = new WebUser().get(c.apache().url("/xnat/s?op=set&name=alice")).get("id");
        String root = "0123456789ABCDEF0123456789ABCDEF"; // StandardManager's form, as a ROOT webapp's
        String otherMsm = "FEDCBA9876543210FEDCBA9876543210" + id.substring(id.indexOf('-'));
        for (String cookies : List.of("JSESSIONID=" + id + "; JSESSIONID=" + root,
                "JSESSIONID=" + root + "; JSESSIONID=" + id, "JSESSIONID=" + id + "; JSESSIONID=" + otherMsm,
                "JSESSIONID=" + otherMsm + "; JSESSIONID=" + id)) {
            Set<String> servers = new HashSet<>();
            for (int i = 0; i < 6 && servers.size() < 2; i++) { // round robin: each order on both Tomcats
                WebUser.Page page = new WebUser().getWithCookie(c.apache().url("/xnat/s?op=look"), cookies);
                assertEquals(id, page.get("id"), "Cookie: " + cookies + ": " + page.body());
                assertEquals("alice", page.get("attr.name"), page.body());
                servers.add(page.get("servedBy"));
            }
            assertEquals(Set.of("tomcat1", "tomcat2"), servers, "round robin reached both Tomcats with " + cookies);
        }
    }

    private Cluster cluster(TomcatLine line, String context, String balancer, String extraAttributes)
            throws IOException {
        return track(new Cluster(line, dir)).start(context, balancer, extraAttributes);
    }
}

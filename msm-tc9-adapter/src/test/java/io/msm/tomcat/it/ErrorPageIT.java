package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;

/**
 * A webapp's {@code <error-page>} runs after msm's valve, and uses the user's session as any page
 * does (a JSP makes one by default). In every mode it sees the user's session, never a new one (a
 * new cookie would log the user out). What the failing page changed reaches memcached before the
 * answer, as any request's change; what the error page changes, right after it (Tomcat sends the
 * page's answer before it says the request is destroyed). Two Tomcats: the next request goes to the
 * other one, as a round-robin balancer sends it.
 */
class ErrorPageIT extends GatedClusterTest {

    private TomcatNode[] cluster(String mode) {
        // The pattern the README suggests for static files: a missing icon gets the error page too.
        String[] attributes = mode.equals("sticky")
                ? new String[] {"sessionBackupAsync", "false", "requestUriIgnorePattern", ".*\\.(ico|png)$"}
                : new String[] {"sticky", "false", "lockingMode", mode, "requestUriIgnorePattern", ".*\\.(ico|png)$"};
        return new TomcatNode[] {
            started(new TomcatNode("tomcat1").errorPages().webapp(APP, manager(attributes))),
            started(new TomcatNode("tomcat2").errorPages().webapp(APP, manager(attributes)))};
    }

    /**
     * A missing page, and a missing icon whose URI msm is told to ignore: the error page of either is
     * a page like any other.
     */
    @ParameterizedTest
    @CsvSource({"none, /app/no-such-page", "all, /app/no-such-page", "sticky, /app/no-such-page",
        "none, /app/favicon.ico", "all, /app/favicon.ico", "sticky, /app/favicon.ico"})
    void anErrorPageOfAMissingPageSeesTheUsersSession_andWhatItChangesIsStored(String mode, String missing) {
        TomcatNode[] tomcats = cluster(mode);
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");

        Browser.Page error = user.get(tomcats[0].url(missing));
        assertEquals(404, error.status());
        assertEquals("404", error.get("error"), "the error page answered");
        assertEquals(id, error.get("id"), "the error page sees the user's session");
        assertEquals("alice", error.get("attr.name"));
        assertNull(error.newSessionCookie(), "no new session cookie: the user stays logged in");

        Browser.Page next = onTheOtherTomcat(tomcats, mode, user, id);
        assertEquals("alice", next.get("attr.name"));
        assertEquals(missing, next.get("attr.errorSeen"), "the error page's change was stored");
        afterTheRequests(tomcats, mode);
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "all", "sticky"})
    void anErrorPageOfAFailingPageSeesTheUsersSession_andBothChangesAreStored(String mode) throws Exception {
        TomcatNode[] tomcats = cluster(mode);
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");

        String gate = gate();
        Future<Browser.Page> answer = failingPageHeldAtItsErrorPage(user, tomcats[0], gate);
        if (mode.equals("none")) {
            // What the failing page changed is stored before its error page runs, so before the answer, as
            // any request's change (Tomcat answers before it says the request is destroyed).
            assertEquals("yes", withSession(id).get(tomcats[1].url("/app/s/peek")).get("attr.thrown"),
                    "the failing page's change, stored before the answer");
        }
        open(gate);
        Browser.Page error = answer.get(30, TimeUnit.SECONDS);
        assertEquals(500, error.status());
        assertEquals("500", error.get("error"), "the error page answered");
        assertEquals(id, error.get("id"), "the error page sees the user's session");
        assertEquals("yes", error.get("attr.thrown"), "the failing page's change is in it");
        assertNull(error.newSessionCookie(), "no new session cookie: the user stays logged in");

        Browser.Page next = onTheOtherTomcat(tomcats, mode, user, id);
        assertEquals("yes", next.get("attr.thrown"), "the failing page's change was stored");
        assertEquals("/app/s/throw", next.get("attr.errorSeen"), "the error page's change was stored");
        afterTheRequests(tomcats, mode);
    }

    /**
     * lockingMode="none": while the error page runs, another Tomcat changes what the failing page set
     * (stored before the error page). The error page's end, after the answer, merges only what the page
     * changed: the other Tomcat's newer value stays.
     */
    @Test
    void theErrorPagesEndDoesNotPutTheFailingPagesValueBackOverANewerOne() throws Exception {
        TomcatNode[] tomcats = cluster("none");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");

        String gate = gate();
        Future<Browser.Page> answer = failingPageHeldAtItsErrorPage(user, tomcats[0], gate);
        assertEquals("later", withSession(id).get(tomcats[1].url("/app/s/set?thrown=later")).get("attr.thrown"));
        open(gate);
        assertEquals(500, answer.get(30, TimeUnit.SECONDS).status());

        Browser.Page next = onTheOtherTomcat(tomcats, "none", user, id);
        assertEquals("later", next.get("attr.thrown"), "the other Tomcat's newer value stays");
        assertEquals("/app/s/throw", next.get("attr.errorSeen"), "the error page's change was stored");
        afterTheRequests(tomcats, "none");
    }

    /**
     * A visitor without a session whose first page makes one and fails (a JSP makes a session by
     * default): the session is in memcached before the answer gives the visitor its cookie, so the
     * next request, on any Tomcat, finds it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"none", "all"})
    void aSessionTheFailingPageMadeIsStoredBeforeTheAnswer(String mode) throws Exception {
        TomcatNode[] tomcats = cluster(mode);
        Browser visitor = new Browser();
        String gate = gate();
        Future<Browser.Page> answer = failingPageHeldAtItsErrorPage(visitor, tomcats[0], gate);
        List<String> stored = new ArrayList<>(n1.keys());
        stored.addAll(n2.keys());
        assertTrue(stored.stream().anyMatch(k -> k.matches(java.util.regex.Pattern.quote(key("")) + "[0-9A-F]+-n[12]")),
                "the session's copy in memcached before the answer: " + stored);
        open(gate);
        Browser.Page error = answer.get(30, TimeUnit.SECONDS);
        assertEquals(500, error.status());
        String id = error.newSessionCookie();
        assertEquals(id, error.get("id"), "the error page sees the session the failing page made");

        Browser.Page next = onTheOtherTomcat(tomcats, mode, visitor, id);
        assertEquals("yes", next.get("attr.thrown"));
        assertEquals("/app/s/throw", next.get("attr.errorSeen"));
    }

    /**
     * Tomcat tells no request listener after one that fails that the request is destroyed: msm's
     * listener hears first, so a webapp's failing listener does not leave the request's lock held or
     * its session unstored.
     */
    @ParameterizedTest
    @ValueSource(strings = {"none", "all", "sticky"})
    void aWebappsFailingRequestListenerDoesNotKeepTheEndFromRunning(String mode) {
        TomcatNode[] tomcats = cluster(mode);
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");

        Browser.Page error = user.get(tomcats[0].url("/app/no-such-page?listenerFails"));
        assertEquals(404, error.status());
        assertEquals(id, error.get("id"), "the error page sees the user's session");

        Browser.Page next = onTheOtherTomcat(tomcats, mode, user, id);
        assertEquals("/app/no-such-page", next.get("attr.errorSeen"),
                "the error page's change was stored; the error page showed: " + error.body() + "; then: " + next.body());
        afterTheRequests(tomcats, mode);
    }

    /** Sends /s/throw, whose error page waits at {@code gate} until the test opens it; returns once it waits. */
    private Future<Browser.Page> failingPageHeldAtItsErrorPage(Browser user, TomcatNode tomcat, String gate) {
        Future<Browser.Page> answer = pool.submit(() -> user.get(tomcat.url("/app/s/throw?gate=" + gate)));
        Await.until("the error page runs", WAIT, () -> SessionServlet.gate(gate).arrived.get() == 1);
        return answer;
    }

    /**
     * The user's next request, on the Tomcat that did not serve the error, once the error page's request
     * ended: Tomcat sends the error page's answer before it says the request is destroyed, and what the
     * page changed is stored right after. Sticky: the first Tomcat stopped, which waits for that end.
     */
    private static Browser.Page onTheOtherTomcat(TomcatNode[] tomcats, String mode, Browser user, String id) {
        if (mode.equals("sticky")) {
            tomcats[0].close(); // sticky mode's other Tomcat takes a session over only once its own is gone
        } else {
            Await.until("the error page's request ended", WAIT, () -> tomcats[0].manager(APP).findSessions().length == 0);
        }
        Browser.Page next = user.get(tomcats[1].url("/app/s/get"));
        assertEquals(200, next.status());
        // Sticky: renamed to the new Tomcat's route, the same session.
        String base = mode.equals("sticky") ? id.substring(0, id.indexOf('.')) : id;
        assertEquals(base, mode.equals("sticky") ? next.get("id").substring(0, base.length()) : next.get("id"),
                "the same session");
        return next;
    }

    /** Non-sticky: the requests ended, their locks free and the copies out of memory. */
    private static void afterTheRequests(TomcatNode[] tomcats, String mode) {
        if (mode.equals("sticky")) {
            return;
        }
        Await.until("the requests' sessions out of memory", WAIT,
                () -> tomcats[0].manager(APP).findSessions().length == 0
                        && tomcats[1].manager(APP).findSessions().length == 0);
        assertEquals(0, count(tomcats[1], Counter.LOCK_TIMEOUTS), "no request waited for a lock left held");
    }
}

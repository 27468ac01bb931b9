package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A webapp at "/" and this one at /app, both with the default cookie name: the browser sends both
 * JSESSIONID cookies to /app, the longer path's first (RFC 6265), and either order from some clients.
 * Tomcat takes the first cookie whose session it finds before any valve, else the last; msm must
 * still give the user the session of /app, on every Tomcat, or each request logs the user out.
 */
class TwoSessionCookiesIT extends GatedClusterTest {

    private TomcatNode[] twoTomcats(String mode) {
        Map<String, String> attributes = mode.equals("sticky") ? manager()
                : manager("sticky", "false", "lockingMode", mode);
        return new TomcatNode[] {
            started(new TomcatNode("tomcat1").webapp("", attributes).webapp(APP, attributes)),
            started(new TomcatNode("tomcat2").webapp("", attributes).webapp(APP, attributes))};
    }

    @ParameterizedTest
    @ValueSource(strings = {"sticky", "none", "all", "auto"})
    void theRootWebappsCookieDoesNotHideThisWebappsSession(String mode) {
        TomcatNode[] tomcats = twoTomcats(mode);
        Browser root = new Browser();
        String rootId = root.get(tomcats[0].url("/s/set?where=root")).get("id");
        Browser app = new Browser();
        String appId = app.get(tomcats[0].url(APP + "/s/set?name=alice")).get("id");
        assertNotEquals(rootId, appId);
        awaitStored(appId);

        String[] headers = {"JSESSIONID=" + appId + "; JSESSIONID=" + rootId,
            "JSESSIONID=" + rootId + "; JSESSIONID=" + appId};
        // Sticky: another Tomcat takes the session over under a new id, with a new cookie; one Tomcat shows it.
        TomcatNode[] serving = mode.equals("sticky") ? new TomcatNode[] {tomcats[0]} : tomcats;
        int n = 0;
        for (String header : headers) {
            for (TomcatNode tomcat : serving) {
                Browser.Page page = new Browser().getWithCookieHeader(tomcat.url(APP + "/s/set?seen" + n + "=" + n),
                        header);
                String where = mode + ", " + tomcat.route() + ", Cookie: " + header;
                assertEquals(200, page.status(), where);
                assertEquals(appId, page.get("id"), "the user's session of " + APP + " (" + where + ")");
                assertEquals("alice", page.get("attr.name"), where);
                assertNull(page.newSessionCookie(), "no new session, no new cookie (" + where + ")");
                n++;
            }
        }
        // What those requests changed is the user's session's, wherever the next request goes.
        for (TomcatNode tomcat : serving) {
            Browser.Page page = withSession(appId).get(tomcat.url(APP + "/s/get"));
            for (int i = 0; i < n; i++) {
                assertEquals(String.valueOf(i), page.get("attr.seen" + i), mode + ", " + tomcat.route());
            }
        }
        if (mode.equals("sticky")) {
            Browser.Page page = new Browser().getWithCookieHeader(tomcats[1].url(APP + "/s/get"), headers[0]);
            assertEquals("alice", page.get("attr.name"), "taken over by tomcat2, with both cookies sent");
            assertEquals(appId.substring(0, appId.indexOf('-')), page.get("id").substring(0, appId.indexOf('-')),
                    "the same session under tomcat2's route");
        }
        Browser.Page rootPage = withSession(rootId).get(serving[serving.length - 1].url("/s/get"));
        assertEquals(rootId, rootPage.get("id"), "the root webapp keeps its own session");
        assertEquals("root", rootPage.get("attr.where"));
    }

    /**
     * A client sending many session cookies in the form of this webapp's ids gets the first few read,
     * not one memcached read each; the id Tomcat took (the last) is still read, so the user's own
     * cookie behind forged ones keeps the session.
     */
    @ParameterizedTest
    @ValueSource(strings = {"none", "all"})
    void manySessionCookiesCostAFewReads(String mode) {
        TomcatNode tomcat = twoTomcats(mode)[0];
        Browser app = new Browser();
        String appId = app.get(tomcat.url(APP + "/s/set?name=alice")).get("id");
        awaitStored(appId);
        StringBuilder header = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            header.append("JSESSIONID=").append(String.format("%032X", i + 1)).append(i % 2 == 0 ? "-n1" : "-n2")
                    .append("; ");
        }
        header.append("JSESSIONID=").append(appId);
        long missesBefore = count(tomcat, io.msm.core.Statistics.Counter.LOAD_MISSES);
        Browser.Page page = new Browser().getWithCookieHeader(tomcat.url(APP + "/s/get"), header.toString());
        assertEquals(appId, page.get("id"), "the last cookie, Tomcat's choice, is still read");
        assertEquals("alice", page.get("attr.name"));
        assertNull(page.newSessionCookie());
        long misses = count(tomcat, io.msm.core.Statistics.Counter.LOAD_MISSES) - missesBefore;
        assertEquals(3, misses, // NonStickyRequests.MAX_SESSION_COOKIES
                "the forged ids read: the first few only, of 30");
    }

    /** StandardManager's form, as a root webapp without msm sends it: not an id msm could hold. */
    private static final String STANDARD_ID = "0123456789ABCDEF0123456789ABCDEF";

    /**
     * A login by request.login() in a webapp without container login is cached in the session, and
     * msm puts it on the request when the webapp loads the session: also when the session is found
     * by its second cookie, after Tomcat's choice (the root webapp's id) found nothing.
     */
    @Test
    void aLoginIsTheRequestsWhenTheSessionIsFoundByItsOtherCookie() {
        TomcatNode[] tomcats = cluster("lockingMode", "all");
        Browser user = new Browser();
        user.get(tomcats[0].url(APP + "/s/set?name=alice"));
        Browser.Page login = user.get(tomcats[0].url(APP + "/s/login?user=alice&password=secret"));
        assertEquals("alice", login.get("user"), login.body());
        String id = login.get("id");
        awaitStored(id);
        Browser.Page page = new Browser().getWithCookieHeader(tomcats[1].url(APP + "/s/get"),
                "JSESSIONID=" + id + "; JSESSIONID=" + STANDARD_ID);
        assertEquals(id, page.get("id"), page.body());
        assertEquals("alice", page.get("user"), "the cached login, as with the session's cookie alone");
    }

    /**
     * A locking request looks its cookies up in turn: one whose session does not exist holds no turn
     * for the rest of the request, so another user's request sending the same stale cookie (two users
     * behind one root webapp's id, or a client that crafts it) does not wait for this one.
     */
    @Test
    void aCookieWithoutSessionHoldsNoTurnWhileTheRequestRuns() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "all", "lockWaitTimeout", "30000");
        String alice = new Browser().get(tomcats[0].url(APP + "/s/set?name=alice")).get("id");
        String bob = new Browser().get(tomcats[0].url(APP + "/s/set?name=bob")).get("id");
        awaitStored(alice);
        awaitStored(bob);
        String stale = "0123456789ABCDEF0123456789ABCDEF" + alice.substring(alice.indexOf('-')); // msm's form, no session
        String gate = gate();
        Future<Browser.Page> held = pool.submit(() -> new Browser().getWithCookieHeader(
                tomcats[0].url(APP + "/s/hold?gate=" + gate), "JSESSIONID=" + stale + "; JSESSIONID=" + alice));
        io.msm.testkit.Await.until("alice's request at the gate", WAIT, () -> SessionServlet.gate(gate).arrived.get() == 1);

        Future<Browser.Page> other = pool.submit(() -> new Browser().getWithCookieHeader(
                tomcats[0].url(APP + "/s/get"), "JSESSIONID=" + stale + "; JSESSIONID=" + bob));
        Browser.Page page = other.get(10, TimeUnit.SECONDS); // far below lockWaitTimeout: it did not wait for alice's
        assertEquals(bob, page.get("id"));
        assertEquals("bob", page.get("attr.name"));
        open(gate);
        assertEquals(alice, held.get(20, TimeUnit.SECONDS).get("id"));
    }
}

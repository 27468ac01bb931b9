package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.core.Statistics;
import io.msm.testkit.Await;

/**
 * Tomcat's FORM login takes three requests: the page the user asked for (saved, and answered with
 * the login page), the login, and the saved request replayed. Tomcat keeps what joins them in
 * session notes, in one Tomcat's memory; behind a balancer the three may each reach another Tomcat.
 */
class FormLoginIT extends ClusterTest {
    private static final String LOGIN = "j_username=alice&j_password=secret";

    /** A form the user sent after their session ended is kept through the login and then sent on. */
    @Test
    void nonSticky_aFormPostedIntoTheLoginPageIsSentOnAfterALoginOnAnotherTomcat() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager("sticky", "false"), "FORM"));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").webapp(APP, manager("sticky", "false"), "FORM"));
        Browser user = new Browser();
        assertTrue(user.postForm(tomcat1.url("/app/secure/set"), "form=draft").body().contains("login-form"));
        // Tomcat's authenticator closes the login page's answer at its forward, before msm's valve stores.
        awaitStored(user.sessionId());

        Browser.Page login = user.postForm(tomcat2.url("/app/j_security_check"), LOGIN);
        assertEquals(303, login.status(), "the login on the other Tomcat finds the page asked for: " + login.body());

        Browser.Page replay = user.get(tomcat1.url("/app/secure/set"));
        assertEquals(200, replay.status());
        assertEquals("alice", replay.get("user"));
        assertEquals("POST", replay.get("method"), "the saved form is sent on");
        assertEquals("draft", replay.get("attr.form"), "with its fields");
        assertEquals("1800", replay.get("maxInactive"), "the session's timeout from before the login page is back");

        Browser.Page next = user.get(tomcat2.url("/app/secure/set?step=two"));
        assertEquals("GET", next.get("method"), "the form is sent on once, not again at the next visit of its page");
        assertEquals("two", next.get("attr.step"));
        assertEquals("draft", next.get("attr.form"));
        assertEquals("alice", next.get("user"));
    }

    /**
     * A reload of the replayed page may reach another Tomcat while the replay runs, without the lock
     * or after waiting lockWaitTimeout for it: the form must not be sent a second time there. The
     * replay stores the login's end at once.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lockingMode=none", "lockingMode=all, past lockWaitTimeout"})
    void nonSticky_aReloadElsewhereDuringTheReplayDoesNotSendTheFormAgain(String mode) throws Exception {
        String[] attributes = mode.startsWith("lockingMode=none") ? new String[] {"sticky", "false", "lockingMode", "none"}
                : new String[] {"sticky", "false", "lockingMode", "all", "lockWaitTimeout", "1000"};
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager(attributes), "FORM"));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").webapp(APP, manager(attributes), "FORM"));
        Browser user = new Browser();
        String gate = "replay-" + System.nanoTime();
        assertTrue(user.postForm(tomcat1.url("/app/secure/hold"), "gate=" + gate + "&form=draft").body()
                .contains("login-form"));
        awaitStored(user.sessionId());
        assertEquals(303, user.postForm(tomcat1.url("/app/j_security_check"), LOGIN).status());

        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<Browser.Page> replay = pool.submit(() -> user.get(tomcat1.url("/app/secure/hold")));
            Await.until("the replay runs", WAIT, () -> SessionServlet.gate(gate).arrived.get() == 1);
            String open = "open-" + System.nanoTime();
            SessionServlet.gate(open).open.countDown();
            long timeouts = count(tomcat2, Statistics.Counter.LOCK_TIMEOUTS);
            Browser.Page reload = withSession(user.sessionId()).get(tomcat2.url("/app/secure/hold?gate=" + open));
            if (mode.contains("lockWaitTimeout")) {
                assertEquals(timeouts + 1, count(tomcat2, Statistics.Counter.LOCK_TIMEOUTS),
                        "the reload went on without the lock the replay holds");
            }
            assertEquals("alice", reload.get("user"), reload.body());
            assertEquals("GET", reload.get("method"), "the form is not sent again by the other Tomcat");

            SessionServlet.gate(gate).open.countDown();
            Browser.Page replayed = replay.get(20, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals("POST", replayed.get("method"));
            assertEquals("draft", replayed.get("attr.form"));
        } finally {
            SessionServlet.gate(gate).open.countDown();
            pool.shutdownNow();
        }
    }

    /** The login page's Tomcat goes away before the user sends the login form. */
    @Test
    void sticky_aLoginPageOfATomcatThatWentAwayStillLogsTheUserInAndSendsTheFormOn() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager(), "FORM"));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").webapp(APP, manager(), "FORM"));
        Browser user = new Browser();
        assertTrue(user.postForm(tomcat1.url("/app/secure/set"), "form=draft").body().contains("login-form"));
        String loginPageId = user.sessionId();
        awaitStored(loginPageId);
        Await.until("the login page's session stored", WAIT,
                () -> count(tomcat1, Statistics.Counter.BACKUPS_STORED) >= 1);

        tomcat1.close();
        Browser.Page login = user.postForm(tomcat2.url("/app/j_security_check"), LOGIN);
        assertEquals(303, login.status(), "tomcat2 finds the page asked for: " + login.body());
        assertNotEquals(loginPageId, user.sessionId(), "the login gives the session a new id");

        Browser.Page replay = user.get(tomcat2.url("/app/secure/set"));
        assertEquals("alice", replay.get("user"));
        assertEquals("POST", replay.get("method"));
        assertEquals("draft", replay.get("attr.form"));
        assertEquals("1800", replay.get("maxInactive"));
    }

    /** The stored notes are Tomcat's to read: a webapp never sees them as an attribute. */
    @Test
    void aLoginUnderWayIsNoAttributeOfTheWebapps() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager("sticky", "false"), "FORM"));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").webapp(APP, manager("sticky", "false"), "FORM"));
        Browser user = new Browser();
        user.get(tomcat1.url("/app/secure/get"));
        String id = user.sessionId();
        awaitStored(id);
        Browser.Page page = user.get(tomcat2.url("/app/s/get"));
        assertEquals(200, page.status());
        assertEquals(id, page.get("id"), "the login page's session, loaded from memcached");
        assertEquals("null", page.get("user"));
        assertTrue(page.lines().keySet().stream().noneMatch(k -> k.startsWith("attr.")), page.body());
    }
}

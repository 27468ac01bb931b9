package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.core.Statistics;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

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

    /**
     * persistAuthentication="false" (Tomcat's attribute): the login stays in the Tomcat's memory. The
     * session's attributes move to another Tomcat, its user logs in again there.
     */
    @Test
    void sticky_persistAuthenticationFalseKeepsTheLoginOutOfMemcached() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager("persistAuthentication", "false"),
                "FORM"));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").webapp(APP, manager("persistAuthentication", "false"),
                "FORM"));
        Browser user = new Browser();
        assertTrue(user.postForm(tomcat1.url("/app/secure/set"), "form=draft").body().contains("login-form"));
        awaitStored(user.sessionId());
        assertEquals(303, user.postForm(tomcat1.url("/app/j_security_check"), LOGIN).status());
        assertEquals("alice", user.get(tomcat1.url("/app/secure/set")).get("user"));
        String id = user.sessionId();
        Await.until("the session stored with the form", WAIT, () -> serverOf(id).get(key(id)) != null
                && new String(serverOf(id).get(key(id)), StandardCharsets.ISO_8859_1).contains("draft"));
        assertTrue(!new String(serverOf(id).get(key(id)), StandardCharsets.ISO_8859_1).contains("alice"),
                "no principal in memcached");

        tomcat1.close();
        Browser.Page after = user.get(tomcat2.url("/app/s/get"));
        assertEquals(200, after.status());
        assertEquals("draft", after.get("attr.form"), "the attributes moved");
        assertEquals("null", after.get("user"), "the login did not");
    }

    /**
     * A webapp of the Host that failed to deploy (Tomcat's FailedContext) knows no session cookie name:
     * the login page of this one is still answered, and its login stored.
     */
    @Test
    void nonSticky_aWebappThatFailedToDeployBesideThisOneChangesNothing() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager("sticky", "false"), "FORM"));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").webapp(APP, manager("sticky", "false"), "FORM"));
        org.apache.catalina.startup.FailedContext broken = new org.apache.catalina.startup.FailedContext();
        broken.setName("/broken");
        broken.setPath("/broken");
        try {
            tomcat1.context(APP).getParent().addChild(broken); // as HostConfig adds one for a broken context file
        } catch (IllegalStateException e) {
            // it does not start, and stays the Host's child
        }
        Browser user = new Browser();
        Browser.Page page = user.postForm(tomcat1.url("/app/secure/set"), "form=draft");
        assertEquals(200, page.status(), page.body());
        assertTrue(page.body().contains("login-form"));
        awaitStored(user.sessionId());
        assertEquals(303, user.postForm(tomcat2.url("/app/j_security_check"), LOGIN).status());
        assertEquals("draft", user.get(tomcat1.url("/app/secure/set")).get("attr.form"));
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

    /**
     * A saved form larger than msm stores with a session (64 KB; this connector's maxSavePostSize lets
     * Tomcat keep it): the login under way stays in this Tomcat's memory, as Tomcat keeps it, with a
     * WARN. The session is stored all the same, without the form, and the login on the same Tomcat
     * sends the whole form on.
     */
    @Test
    void sticky_aSavedFormTooLargeToStoreStaysOnItsTomcatWithAWarning() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").maxSavePostSize(1024 * 1024)
                .webapp(APP, manager(), "FORM"));
        Browser user = new Browser();
        String large = "x".repeat(100_000);
        try (LogCapture log = new LogCapture("io.msm")) {
            assertTrue(user.postForm(tomcat1.url("/app/secure/set"), "form=" + large).body().contains("login-form"));
            awaitStored(user.sessionId());
            List<String> warned = log.lines(r -> String.valueOf(r.getMessage()).contains("is not stored with its session"));
            assertEquals(1, warned.size(), String.valueOf(log.lines()));
            assertTrue(warned.get(0).startsWith("WARNING") && warned.get(0).contains("more than 65536"), warned.get(0));
        }
        String stored = new String(serverOf(user.sessionId()).get(key(user.sessionId())), StandardCharsets.ISO_8859_1);
        assertTrue(!stored.contains("x".repeat(1000)), "memcached's copy holds no part of the form");

        assertEquals(303, user.postForm(tomcat1.url("/app/j_security_check"), LOGIN).status());
        Browser.Page replay = user.get(tomcat1.url("/app/secure/set"));
        assertEquals("alice", replay.get("user"));
        assertEquals("POST", replay.get("method"));
        assertEquals(large, replay.get("attr.form"), "the whole form is sent on");
    }

    /**
     * Stored login bytes that do not decode (changed in memcached, or written by another msm) never
     * reach Tomcat: a WARN with the masked id, the session loads without them (its user logs in
     * again), and its next store leaves them out.
     */
    @Test
    void nonSticky_aStoredLoginThatDoesNotDecodeIsDroppedWithAWarningAndLeftOutAtTheNextStore() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager("sticky", "false"), "FORM"));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").webapp(APP, manager("sticky", "false"), "FORM"));
        Browser user = new Browser();
        assertTrue(user.postForm(tomcat1.url("/app/secure/set"), "form=draft").body().contains("login-form"));
        String id = user.sessionId();
        awaitStored(id);
        MemcachedServer node = serverOf(id);
        assertTrue(holdsALogin(node.get(key(id))), "memcached's copy holds the login under way");
        node.set(key(id), withLoginVersion(node.get(key(id)), id, (byte) 9), 3600);

        try (LogCapture log = new LogCapture("io.msm")) {
            Browser.Page page = user.get(tomcat2.url("/app/s/get"));
            assertEquals(200, page.status(), page.body());
            assertEquals(id, page.get("id"), "the session itself is kept");
            List<String> warned = log.lines(r -> String.valueOf(r.getMessage()).contains("was not restored"));
            assertEquals(1, warned.size(), String.valueOf(log.lines()));
            assertTrue(warned.get(0).startsWith("WARNING") && warned.get(0).contains("version 9"), warned.get(0));
            assertTrue(!warned.get(0).contains(id), "the id is masked: " + warned.get(0));
        }
        Await.until("the next store leaves the stored login out", WAIT, () -> !holdsALogin(node.get(key(id))));
        assertEquals(408, user.postForm(tomcat1.url("/app/j_security_check"), LOGIN).status(),
                "the login finds no login under way, as after its session ended");
    }

    /**
     * @return the session's frame with its stored login's format version replaced, and the payload's
     *     checksum made right again: bytes that pass the frame's checks and fail the login's
     */
    private static byte[] withLoginVersion(byte[] frame, String id, byte version) {
        byte[] utf8 = id.getBytes(StandardCharsets.UTF_8);
        byte[] expected = ByteBuffer.allocate(4 + utf8.length).putInt(utf8.length).put(utf8).array();
        int at = indexOf(frame, expected);
        assertTrue(at > 0 && frame[at - 1] == 1, "the stored login begins with its version and the id it expects");
        byte[] forged = frame.clone();
        forged[at - 1] = version;
        int authLength = ((frame[25] & 0xFF) << 8) | (frame[26] & 0xFF); // SessionFrame's header
        int payloadAt = 27 + (authLength == 0xFFFF ? 0 : authLength) + 8;
        CRC32 crc = new CRC32();
        crc.update(forged, payloadAt, forged.length - payloadAt);
        ByteBuffer.wrap(forged).putInt(payloadAt - 4, (int) crc.getValue());
        return forged;
    }

    private static boolean holdsALogin(byte[] frame) {
        return new String(frame, StandardCharsets.ISO_8859_1).contains("io.msm.tomcat.formLogin");
    }

    private static int indexOf(byte[] bytes, byte[] part) {
        for (int i = 0; i + part.length <= bytes.length; i++) {
            if (java.util.Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        return -1;
    }
}

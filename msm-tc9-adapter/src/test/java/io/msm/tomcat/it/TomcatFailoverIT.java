package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.msm.core.SessionId;
import io.msm.testkit.Await;
import io.msm.testkit.DelayingProxy;
import io.msm.testkit.MemcachedServer;

/** A Tomcat goes away; the balancer sends its users to another one, and they notice nothing. */
class TomcatFailoverIT extends ClusterTest {
    /** A node probed slowly on a busy machine gets no new session until its median comes down. */
    private static final Duration NODE_CHOICE_WAIT = Duration.ofSeconds(30);

    @Test
    void attributesCreationTimeAndActivationListenersSurviveOnTheOtherTomcat() {
        TomcatNode tomcat1 = tomcat("tomcat1", manager());
        TomcatNode tomcat2 = tomcat("tomcat2", manager());
        Browser user = new Browser();
        user.get(tomcat1.url("/app/s/set?name=alice&cart=3+items&blob=unserializable"));
        user.get(tomcat1.url("/app/s/probe"));
        Browser.Page before = user.get(tomcat1.url("/app/s/get"));
        String oldId = before.get("id");
        awaitStored(oldId);
        Await.until("the latest state stored", WAIT, () -> tomcat1.manager(APP).getStatistics()
                .get(io.msm.core.Statistics.Counter.BACKUPS_STORED) >= 2);
        int activations = ActivationProbe.ACTIVATIONS.get();

        tomcat1.close();
        Browser.Page after = user.get(tomcat2.url("/app/s/get"));

        assertEquals(200, after.status());
        assertEquals("alice", after.get("attr.name"));
        assertEquals("3 items", after.get("attr.cart"));
        assertEquals("probe", after.get("attr.probe"));
        assertNull(after.get("attr.blob"), "the unserializable attribute is left out, the others survive");
        assertEquals(before.get("creation"), after.get("creation"), "creation time survives");
        assertEquals(activations + 1, ActivationProbe.ACTIVATIONS.get(), "sessionDidActivate on tomcat2");

        String newId = after.newSessionCookie();
        assertNotNull(newId, "tomcat2 sends a new cookie");
        assertEquals("tomcat2", SessionId.parse(newId).jvmRoute(), "the route names the Tomcat now serving it");
        assertEquals(SessionId.parse(oldId).random(), SessionId.parse(newId).random());
        awaitStored(newId);
        Await.until("the copy under the old route deleted", WAIT, () -> serverOf(oldId).get(key(oldId)) == null);
        assertEquals("alice", user.get(tomcat2.url("/app/s/get")).get("attr.name"));
    }

    /**
     * The balancer sends a page's parallel requests (AJAX calls, frames) to another Tomcat at once. The
     * first loads the session; the others must share that copy, not load one each and replace it.
     */
    @Test
    void parallelRequestsWithTheGoneTomcatsCookieShareTheOneSessionTakenOver() throws Exception {
        try (DelayingProxy p1 = DelayingProxy.start(n1.port(), 0);
                DelayingProxy p2 = DelayingProxy.start(n2.port(), 0)) {
            TomcatNode tomcat1 = tomcat("tomcat1", manager());
            Map<String, String> viaProxies = manager();
            viaProxies.put("memcachedNodes", p1.node("n1") + "," + p2.node("n2"));
            TomcatNode tomcat2 = tomcat("tomcat2", viaProxies);
            String id = new Browser().get(tomcat1.url("/app/s/incr")).get("id");
            awaitStored(id);
            tomcat1.close();

            p1.delay(300); // the load is slow: the other requests arrive while it runs
            p2.delay(300);
            int parallel = 8;
            ExecutorService pool = Executors.newFixedThreadPool(parallel);
            try {
                List<Future<Browser.Page>> pages = new ArrayList<>();
                for (int i = 0; i < parallel; i++) {
                    String set = "/app/s/set?step" + i + "=done"; // each its own attribute: no lost update by the servlet
                    pages.add(pool.submit(() -> withSession(id).get(tomcat2.url(set))));
                }
                for (Future<Browser.Page> page : pages) {
                    assertEquals(200, page.get(30, TimeUnit.SECONDS).status());
                }
            } finally {
                pool.shutdownNow();
            }
            p1.delay(0);
            p2.delay(0);

            assertEquals(1, tomcat2.manager(APP).findSessions().length, "one session taken over, not one per request");
            String newId = tomcat2.manager(APP).findSessions()[0].getId();
            Browser.Page page = withSession(newId).get(tomcat2.url("/app/s/get"));
            assertEquals("1", page.get("attr.counter"));
            for (int i = 0; i < parallel; i++) {
                assertEquals("done", page.get("attr.step" + i), "the change of request " + i + " is in the session");
            }
        }
    }

    /**
     * A logout's answer goes out only once memcached no longer holds the session, with asynchronous
     * backups too: were tomcat1 to die right after that answer, tomcat2 must not serve the session as
     * logged in. tomcat1's one backup thread is kept busy by another user's store to a hung node, so
     * that a delete queued behind it would still wait when the answer arrives.
     */
    @Test
    void aLogoutIsDeletedBeforeItsAnswer_soNoOtherTomcatServesTheSessionAfterIt() {
        TomcatNode tomcat1 = tomcat("tomcat1", manager("backupThreadCount", "1", "operationTimeout", "8000"));
        TomcatNode tomcat2 = tomcat("tomcat2", manager());
        Browser alice = new Browser();
        String aliceId = alice.get(tomcat1.url("/app/s/set?name=alice")).get("id");
        awaitStored(aliceId);
        Browser[] bob = new Browser[1];
        String[] bobId = new String[1];
        // New sessions go to the nodes with the fastest probes: a node probed slowly at start gets
        // none until its median comes down.
        Await.until("a session on the node alice's is not on", NODE_CHOICE_WAIT, () -> {
            bob[0] = new Browser();
            bobId[0] = bob[0].get(tomcat1.url("/app/s/set?name=bob")).get("id");
            return serverOf(bobId[0]) != serverOf(aliceId);
        });
        awaitStored(bobId[0]);

        MemcachedServer bobsNode = serverOf(bobId[0]);
        bobsNode.pause(); // bob's next backup holds the backup thread for up to operationTimeout
        bob[0].get(tomcat1.url("/app/s/set?step=2"));
        Await.until("bob's backup running", WAIT, () -> tomcat1.manager(APP).getBackupQueueLength() >= 1);
        assertEquals("invalidated", alice.get(tomcat1.url("/app/s/invalidate")).body().trim());

        assertNull(serverOf(aliceId).get(key(aliceId)), "memcached held the session when the logout's answer came");
        assertNull(withSession(aliceId).get(tomcat2.url("/app/s/get")).get("attr.name"),
                "tomcat2 served the logged-out session");
        bobsNode.resume();
    }

    /**
     * The copy under the gone Tomcat's id is deleted only once the moved session is stored under its
     * new id, behind the session's queued backups. A logout before that (tomcat2's one backup thread
     * held by another user's store to a hung node) must not let a tab with the old id load that copy
     * and be served logged in.
     */
    @Test
    void aLogoutBeforeTheMovedSessionIsStoredLeavesTheOldIdNothingToLoad() throws Exception {
        TomcatNode tomcat1 = tomcat("tomcat1", manager());
        TomcatNode tomcat2 = tomcat("tomcat2", manager("backupThreadCount", "1", "operationTimeout", "8000"));
        Browser alice = new Browser();
        String old = alice.get(tomcat1.url("/app/s/set?name=alice")).get("id");
        awaitStored(old);
        Browser bob = aSessionOnTheOtherNode(tomcat2, old);
        tomcat1.close();

        MemcachedServer bobsNode = serverOf(bob.sessionId());
        bobsNode.pause(); // bob's next backup holds tomcat2's backup thread for up to operationTimeout
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            bob.get(tomcat2.url("/app/s/set?step=2"));
            Await.until("bob's backup running", WAIT, () -> tomcat2.manager(APP).getBackupQueueLength() >= 1);
            assertEquals("alice", alice.get(tomcat2.url("/app/s/get")).get("attr.name"), "taken over");
            String moved = alice.sessionId();
            assertNotEquals(old, moved);
            Future<Browser.Page> logout = pool.submit(() -> alice.get(tomcat2.url("/app/s/invalidate")));
            Await.until("the session ended in tomcat2's memory", WAIT, () -> Arrays.stream(
                    tomcat2.manager(APP).findSessions()).noneMatch(session -> moved.equals(session.getIdInternal())));
            assertNotNull(serverOf(old).get(key(old)), "the old id's copy is still there: the test holds its delete");

            Browser.Page tab = withSession(old).get(tomcat2.url("/app/s/get"));
            assertNull(tab.get("attr.name"), "the old id loaded the logged-out session");
            bobsNode.resume();
            assertEquals("invalidated", logout.get(30, TimeUnit.SECONDS).body().trim());
            assertNull(withSession(moved).get(tomcat2.url("/app/s/get")).get("attr.name"), "logged out under the new id");
        } finally {
            bobsNode.resume();
            pool.shutdownNow();
        }
    }

    /** @return a browser whose session, created on the Tomcat given and stored, lives on the node {@code id}'s does not */
    private Browser aSessionOnTheOtherNode(TomcatNode tomcat, String id) {
        Browser[] other = new Browser[1];
        // New sessions go to the nodes with the fastest probes: a node probed slowly at start gets
        // none until its median comes down.
        Await.until("a session on the other node", NODE_CHOICE_WAIT, () -> {
            other[0] = new Browser();
            String otherId = other[0].get(tomcat.url("/app/s/set?name=bob")).get("id");
            return serverOf(otherId) != serverOf(id);
        });
        awaitStored(other[0].sessionId());
        return other[0];
    }

    /**
     * A tab still sends the gone Tomcat's id after the user logged out on the Tomcat that took the
     * session over. The alias from that id must not hand Tomcat the ended session: with the cookie
     * path "/" (webapps sharing ids), Tomcat then took the old id as in use and gave the tab's new
     * session that id.
     */
    @Test
    void aTabWithTheGoneTomcatsIdAfterTheLogoutGetsANewSessionUnderANewId() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").sessionCookiePath("/").webapp(APP, manager()));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").sessionCookiePath("/").webapp(APP, manager()));
        Browser user = new Browser();
        String old = user.get(tomcat1.url("/app/s/set?name=alice")).get("id");
        awaitStored(old);
        tomcat1.close();

        Browser tab = withSession(old);
        assertEquals("alice", user.get(tomcat2.url("/app/s/get")).get("attr.name"), "taken over");
        assertNotEquals(old, user.sessionId(), "the session moved to tomcat2's id");
        assertEquals("alice", tab.get(tomcat2.url("/app/s/get")).get("attr.name"), "the tab follows the move");
        tab.sessionId(old); // the tab's next request still carries the old id
        user.get(tomcat2.url("/app/s/invalidate"));

        Browser.Page page = tab.get(tomcat2.url("/app/s/set?step=1"));
        assertNull(page.get("attr.name"), "logged out");
        assertNotEquals(old, page.get("id"), "a new session, not under the id from before the move");
    }

    /**
     * The session moves twice: to tomcat2 when tomcat1 dies, then to the other node when its node dies.
     * A tab still sending the first id follows both moves to the session.
     */
    @Test
    void aTabWithTheFirstIdFollowsATomcatMoveAndThenANodeMove() {
        TomcatNode tomcat1 = tomcat("tomcat1", manager());
        TomcatNode tomcat2 = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String first = user.get(tomcat1.url("/app/s/set?name=alice")).get("id");
        awaitStored(first);
        MemcachedServer node = serverOf(first);
        tomcat1.close();
        assertEquals("alice", user.get(tomcat2.url("/app/s/get")).get("attr.name"), "taken over");
        String taken = user.sessionId();
        awaitStored(taken);

        node.kill();
        String otherNode = node == n1 ? "-n2" : "-n1";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!user.sessionId().contains(otherNode) && System.nanoTime() < deadline) {
            assertEquals("alice", user.get(tomcat2.url("/app/s/get")).get("attr.name"), "kept in memory");
        }
        assertTrue(user.sessionId().contains(otherNode), "moved off the dead node within 30 s: " + user.sessionId());

        Browser.Page tab = withSession(first).get(tomcat2.url("/app/s/get"));
        assertEquals("alice", tab.get("attr.name"), "the first id reaches the session after two moves");
        assertEquals(user.sessionId(), tab.get("id"));
    }

    @Test
    void formLoginSurvivesTheTomcatThatPerformedIt() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager(), "FORM"));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").webapp(APP, manager(), "FORM"));
        Browser user = new Browser();
        assertTrue(user.get(tomcat1.url("/app/secure/get")).body().contains("login-form"));
        Browser.Page login = user.postForm(tomcat1.url("/app/j_security_check"), "j_username=alice&j_password=secret");
        assertEquals(303, login.status(), "FORM login redirects back: " + login.body());
        Browser.Page page = user.get(tomcat1.url("/app/secure/get"));
        assertEquals("alice", page.get("user"));
        awaitStored(user.sessionId());
        Await.until("the principal stored", WAIT, () -> tomcat1.manager(APP).findSessions().length == 1
                && tomcat1.manager(APP).findSessions()[0].getPrincipal() != null);

        tomcat1.close();
        Browser.Page after = user.get(tomcat2.url("/app/secure/get"));
        assertEquals(200, after.status());
        assertEquals("alice", after.get("user"), "still logged in on tomcat2, no login form");
        assertEquals("FORM", after.get("authType"));
    }

    /**
     * Tomcat gives the session a new id at login, so that an id planted before it (session
     * fixation) is worthless. msm's aliases for its own moves must not keep the old id working.
     */
    @Test
    void theIdFromBeforeTheLoginDoesNotReachTheLoggedInSession() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager(), "FORM"));
        Browser user = new Browser();
        assertTrue(user.get(tomcat1.url("/app/secure/get")).body().contains("login-form"));
        String planted = user.sessionId();
        assertNotNull(planted, "the login form creates a session");
        Browser.Page login = user.postForm(tomcat1.url("/app/j_security_check"), "j_username=alice&j_password=secret");
        assertEquals(303, login.status(), "FORM login redirects back: " + login.body());
        assertEquals("alice", user.get(tomcat1.url("/app/secure/get")).get("user"));
        assertNotEquals(planted, user.sessionId(), "the login changed the id");

        Browser attacker = new Browser();
        attacker.sessionId(planted);
        Browser.Page page = attacker.get(tomcat1.url("/app/secure/get"));
        assertTrue(page.body().contains("login-form"), "the planted id gets the login form: " + page.body());
        assertNull(page.get("user"));
    }

    /**
     * The copy under the id from before the login is deleted only once the session is stored under
     * its new id. While that store waits (the one backup thread held by another user's store to a
     * hung node), the planted id must not load the copy from before the login either.
     */
    @Test
    void theIdFromBeforeTheLoginLoadsNothing_whileTheLoggedInSessionWaitsToBeStored() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP,
                manager("backupThreadCount", "1", "operationTimeout", "8000"), "FORM"));
        Browser user = new Browser();
        String planted = user.get(tomcat1.url("/app/s/set?cart=3+items")).get("id");
        awaitStored(planted);
        Browser bob = aSessionOnTheOtherNode(tomcat1, planted);

        MemcachedServer bobsNode = serverOf(bob.sessionId());
        bobsNode.pause();
        try {
            bob.get(tomcat1.url("/app/s/set?step=2"));
            Await.until("bob's backup running", WAIT, () -> tomcat1.manager(APP).getBackupQueueLength() >= 1);
            assertTrue(user.get(tomcat1.url("/app/secure/get")).body().contains("login-form"));
            Browser.Page login = user.postForm(tomcat1.url("/app/j_security_check"), "j_username=alice&j_password=secret");
            assertEquals(303, login.status(), "FORM login redirects back: " + login.body());
            assertNotEquals(planted, user.sessionId(), "the login changed the id");
            assertNotNull(serverOf(planted).get(key(planted)), "the copy from before the login is still there");

            Browser.Page page = withSession(planted).get(tomcat1.url("/app/s/get"));
            assertNull(page.get("attr.cart"), "the planted id loaded the session from before the login");
            assertNotEquals(planted, page.get("id"), "a new session, under a new id");
            bobsNode.resume();
            Browser.Page after = user.get(tomcat1.url("/app/secure/get"));
            assertEquals("alice", after.get("user"));
        } finally {
            bobsNode.resume();
        }
    }

    @Test
    void basicLoginSurvivesTheTomcatThatPerformedIt() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager(), "BASIC"));
        TomcatNode tomcat2 = started(new TomcatNode("tomcat2").webapp(APP, manager(), "BASIC"));
        Browser user = new Browser();
        user.get(tomcat1.url("/app/s/set?x=1"));
        assertEquals(401, user.get(tomcat1.url("/app/secure/get")).status());
        // Tomcat keeps a BASIC login in the session when a session exists as the user authenticates.
        Browser.Page page = user.getWithBasicAuth(tomcat1.url("/app/secure/get"), "alice", "secret");
        assertEquals("alice", page.get("user"));
        Await.until("the principal stored", WAIT, () -> tomcat1.manager(APP).getStatistics()
                .get(io.msm.core.Statistics.Counter.BACKUPS_STORED) >= 2);
        awaitStored(user.sessionId());

        tomcat1.close();
        // No credentials sent: only the principal kept in the session can let this request in.
        Browser.Page after = user.get(tomcat2.url("/app/secure/get"));
        assertEquals(200, after.status());
        assertEquals("alice", after.get("user"));
        assertEquals("1", after.get("attr.x"));
    }
}

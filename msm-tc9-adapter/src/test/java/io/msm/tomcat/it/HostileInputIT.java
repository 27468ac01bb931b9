package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.core.SessionId;
import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * What an anonymous request with a crafted cookie, or one user with a huge session, can do to
 * everyone else: nothing. Real memcached, embedded Tomcat 9.
 */
class HostileInputIT extends ClusterTest {

    /** Cookies anyone can send without logging in. */
    private static List<String> craftedIds(String real) {
        String random = SessionId.parse(real).random();
        List<String> ids = new ArrayList<>();
        ids.add("A".repeat(300) + "-n1.tomcat1"); // longer than a memcached key
        ids.add(random + "-n9.tomcat1"); // a node the cluster does not have
        ids.add("ZZ" + random.substring(2) + "-n1.tomcat1"); // not hexadecimal
        ids.add("y_" + real); // another webapp's key shifted into the id
        ids.add(random.substring(0, 8) + "-n1"); // too short
        return ids;
    }

    @org.junit.jupiter.api.Test
    void madeUpIdsOfADownNodeMoveNothing_andCountNoRelocation() {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String real = user.get(tomcat.url("/app/s/set?cart=1")).get("id");
        SessionId id = SessionId.parse(real);
        MemcachedServer down = serverOf(real);
        down.kill();
        user.get(tomcat.url("/app/s/set?cart=2")); // its backup finds the node dead
        Await.until("the node to be marked down", WAIT, () -> count(tomcat, Counter.BACKUPS_FAILED) >= 1);
        long relocations = count(tomcat, Counter.RELOCATIONS);

        for (int i = 0; i < 30; i++) {
            String madeUp = String.format("%032X", i + 1) + "-" + id.nodeId() + ".tomcat1"; // well formed, no session
            Browser.Page page = withSession(madeUp).get(tomcat.url("/app/s/get"));
            assertEquals(200, page.status());
        }

        assertEquals(relocations, count(tomcat, Counter.RELOCATIONS), "no session existed to move");
    }

    /**
     * With the cookie path "/" and {@code validateClientProvidedNewSessionId="false"}, Tomcat gives a
     * new session the id the client sent. An id not of the form msm gives here must get a fresh one
     * instead: of another form, with a random part msm never makes, or of a node msm does not know.
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void aNewSessionNeverTakesAnIdTheClientMadeUp(boolean sticky) {
        TomcatNode tomcat = started(new TomcatNode("tomcat1").sessionCookiePath("/")
                .webapp(APP, manager("sticky", String.valueOf(sticky))));
        tomcat.context(APP).setValidateClientProvidedNewSessionId(false);
        // Too long; no node; a one-digit random part (guessable); not hexadecimal; a node not in memcachedNodes.
        for (String crafted : List.of("x-" + "A".repeat(300), "evil", "0-n1", "Z".repeat(32) + "-n1.tomcat1",
                "A".repeat(32) + "-n9")) {
            Browser.Page page = withSession(crafted).get(tomcat.url("/app/s/set?name=mallory"));
            assertEquals(200, page.status());
            String id = page.get("id");
            assertNotEquals(crafted, id, "the client's id was taken");
            assertEquals("mallory", withSession(id).get(tomcat.url("/app/s/get")).get("attr.name"));
            awaitStored(id);
        }
    }

    /**
     * With the cookie path "/", Tomcat gives a new session the client's id when another webapp of the
     * Host holds a session of that id (validateClientProvidedNewSessionId, Tomcat's default). That
     * webapp may have taken any id from a client (its own check off): msm checks the id all the same,
     * so that none names another of a session's keys (its lock) or a form msm never makes.
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void anIdAnotherWebappTookFromTheClientIsCheckedAllTheSame(boolean sticky) {
        TomcatNode tomcat = started(new TomcatNode("tomcat1").sessionCookiePath("/")
                .webapp(APP, manager("sticky", String.valueOf(sticky))).webapp("/other", null));
        tomcat.context("/other").setValidateClientProvidedNewSessionId(false);
        String crafted = "lock:" + "A".repeat(32) + "-n1";
        assertEquals(crafted, withSession(crafted).get(tomcat.url("/other/s/set?x=1")).get("id"),
                "the other webapp took the client's id");

        Browser.Page page = withSession(crafted).get(tomcat.url("/app/s/set?name=mallory"));
        assertEquals(200, page.status());
        String id = page.get("id");
        assertNotEquals(crafted, id, "the client's id was taken");
        assertEquals("mallory", withSession(id).get(tomcat.url("/app/s/get")).get("attr.name"));
        awaitStored(id);
    }

    /**
     * A webapp on Tomcat's own manager shares its id with this one (cookie path "/"): the id, not of
     * msm's form, is kept, since a fresh one would replace that webapp's cookie and end its session.
     */
    @Test
    void anIdOfAnotherManagersWebappIsShared_itsSessionGoesOn() {
        TomcatNode tomcat = started(new TomcatNode("tomcat1").sessionCookiePath("/")
                .webapp(APP, manager()).webapp("/other", null));
        Browser user = new Browser();
        String other = user.get(tomcat.url("/other/s/set?cart=3")).get("id");

        Browser.Page page = user.get(tomcat.url("/app/s/set?name=alice"));
        assertEquals(other, page.get("id"), "the other webapp's id, shared");
        assertEquals("3", user.get(tomcat.url("/other/s/get")).get("attr.cart"), "its session goes on");
        assertEquals("alice", user.get(tomcat.url("/app/s/get")).get("attr.name"));
    }

    /**
     * A login that invalidates the session and takes a new one (Spring Security's migrateSession, the
     * usual hand-written login) gets a new id, also where Tomcat gives a new session the client's id
     * when a webapp of the host knows it (sessionCookiePath="/"): the old id would carry the login
     * to whoever planted it, and its removal markers would end the new session.
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void aLoginThatInvalidatesAndTakesANewSessionGetsANewId(boolean sticky) {
        TomcatNode tomcat = started(new TomcatNode("tomcat1").sessionCookiePath("/")
                .webapp(APP, manager("sticky", String.valueOf(sticky))));
        Browser user = new Browser();
        String before = user.get(tomcat.url("/app/s/set?visitor=anonymous")).get("id");
        awaitStored(before);

        Browser.Page login = user.get(tomcat.url("/app/s/migrate?name=alice"));

        assertEquals(200, login.status());
        String after = login.get("id");
        assertNotEquals(before, after, "the login kept the id from before it");
        Browser.Page next = user.get(tomcat.url("/app/s/get"));
        assertEquals(after, next.get("id"));
        assertEquals("alice", next.get("attr.name"), "logged in at the next request");
        assertEquals(null, withSession(before).get(tomcat.url("/app/s/get")).get("attr.visitor"),
                "the session from before the login is gone");
    }

    /**
     * Tomcat looks up each JSESSIONID cookie of a request, before any valve, until one is valid. One
     * request with a hundred well-formed ids of sessions that do not exist must not cost a hundred
     * memcached reads.
     */
    @Test
    void aRequestWithAHundredSessionCookiesCostsAFewReads() throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        StringBuilder cookies = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            cookies.append(i == 0 ? "" : "; ").append("JSESSIONID=").append(String.format("%032X", i + 1))
                    .append("-n1.tomcat1");
        }
        long misses = count(tomcat, Counter.LOAD_MISSES);
        java.net.http.HttpResponse<String> answer = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(tomcat.url("/app/s/get")))
                        .header("Cookie", cookies.toString()).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());

        assertEquals(200, answer.statusCode());
        long reads = count(tomcat, Counter.LOAD_MISSES) - misses;
        assertTrue(reads >= 1 && reads <= 5, reads + " memcached reads for one request");
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void aFloodOfCraftedCookiesCostsTheNeighbourNothing(boolean sticky) {
        TomcatNode tomcat = tomcat("tomcat1", manager("sticky", String.valueOf(sticky)));
        Browser neighbour = new Browser();
        String id = neighbour.get(tomcat.url("/app/s/set?cart=1")).get("id");
        for (int round = 0; round < 10; round++) {
            for (String crafted : craftedIds(id)) {
                Browser.Page page = withSession(crafted).get(tomcat.url("/app/s/get"));
                assertEquals(200, page.status(), "an anonymous request is served");
                assertNotEquals(crafted, page.get("id"), "and gets a fresh session, not the crafted one");
            }
        }
        Browser.Page page = neighbour.get(tomcat.url("/app/s/set?cart=2"));
        assertEquals(id, page.get("id"), "the neighbour keeps its id and node");
        assertEquals("2", page.get("attr.cart"));
        assertEquals(0, count(tomcat, Counter.RELOCATIONS), "nobody was moved");
        assertEquals(50, count(tomcat, Counter.INVALID_SESSION_IDS), "each crafted cookie counted once");
        awaitStored(id);
        assertEquals(0, count(tomcat, Counter.BACKUPS_FAILED), "and every backup reached memcached");
    }

    @ParameterizedTest(name = "{0} MB")
    @ValueSource(ints = {2, 20})
    void aLargeSessionSurvivesItsTomcatsDeathAndLeavesTheNeighboursAlone(int megabytes) {
        // serialFilter's maxbytes (10 MB by default) bounds what a session may hold; 20 MB needs more.
        String filter = "maxbytes=" + (megabytes + 5) * 1_000_000;
        TomcatNode tomcat1 = tomcat("tomcat1", manager("sessionBackupAsync", "false",
                "sessionBackupTimeout", "5000", "serialFilter", filter));
        TomcatNode tomcat2 = tomcat("tomcat2", manager("serialFilter", filter));
        Browser neighbour = new Browser();
        String neighbourId = neighbour.get(tomcat1.url("/app/s/set?cart=1")).get("id");
        Browser big = new Browser();
        big.get(tomcat1.url("/app/s/big?mb=" + megabytes));
        String bigId = big.sessionId();
        awaitStored(bigId);

        tomcat1.close(); // its Tomcat dies; the balancer sends the user to tomcat2
        Browser.Page page = big.get(tomcat2.url("/app/s/blob"));

        assertEquals(String.valueOf(megabytes * 1_000_000), page.get("blob.length"));
        assertEquals("true", page.get("blob.intact"));
        Browser.Page other = neighbour.get(tomcat2.url("/app/s/get"));
        assertEquals("1", other.get("attr.cart"), "the neighbour on the same node is there too");
        assertEquals(SessionId.parse(neighbourId).nodeId(), SessionId.parse(other.get("id")).nodeId());
    }

    @Test
    void aLargeNonStickySessionIsServedByEitherTomcat() {
        TomcatNode[] tomcats = cluster("lockingMode", "all");
        Browser big = new Browser();
        big.get(tomcats[0].url("/app/s/big?mb=3"));
        for (int i = 0; i < 4; i++) {
            Browser.Page page = big.get(tomcats[i % 2].url("/app/s/blob"));
            assertEquals("3000000", page.get("blob.length"));
            assertEquals("true", page.get("blob.intact"));
        }
        assertEquals(0, count(tomcats[0], Counter.ITEMS_REFUSED) + count(tomcats[1], Counter.ITEMS_REFUSED));
    }

    @Test
    void aSessionIdOfAnotherWebappIsNoSessionHere() {
        TomcatNode tomcat = started(new TomcatNode("tomcat1").webapp("/x", manager()).webapp("/x_y", manager()));
        Browser user = new Browser();
        String id = user.get(tomcat.url("/x_y/s/set?secret=mine")).get("id");

        Browser.Page page = withSession("y_" + id).get(tomcat.url("/x/s/set?secret=overwritten"));
        assertNotEquals("y_" + id, page.get("id"));
        Browser.Page same = withSession(id).get(tomcat.url("/x/s/get"));
        assertNotEquals(id, same.get("id"), "nor does /x read the session of /x_y under its own id");

        assertEquals("mine", user.get(tomcat.url("/x_y/s/get")).get("attr.secret"), "/x_y's session is untouched");
    }

    @Test
    void lockingModeAutoIsNotTaughtByRequestsThatHadNoSession() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "auto");
        for (int i = 0; i < 3; i++) {
            assertEquals(401, new Browser().get(tomcats[i % 2].url("/app/s/guarded")).status());
        }
        Browser first = new Browser();
        String id = first.get(tomcats[0].url("/app/s/set?start=1")).get("id");
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int client = c;
                done.add(clients.submit(() -> {
                    Browser user = withSession(id);
                    for (int r = 0; r < 25; r++) {
                        assertEquals(200, user.get(tomcats[(client + r) % 2].url("/app/s/guarded")).status());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }
        assertEquals("100", first.get(tomcats[1].url("/app/s/get")).get("attr.counter"), "no increment lost");
    }
}

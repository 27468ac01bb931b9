package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
import io.msm.testkit.DelayingProxy;
import io.msm.testkit.MemcachedServer;

/** sticky="false": any Tomcat serves any request, memcached holds the session between requests. */
class NonStickySessionIT extends GatedClusterTest {

    @ParameterizedTest(name = "beside a CPU hog: {0}")
    @ValueSource(booleans = {false, true})
    void lockingAllLosesNoIncrement_4Clients50RequestsEach_roundRobinOverBothTomcats(boolean loaded)
            throws Exception {
        // A lock test, not a timeout test: one operation slowed past the default second by the hogs
        // would mark a node down, and the Tomcats could lock on different nodes meanwhile.
        TomcatNode[] tomcats = cluster("lockingMode", "all", "operationTimeout", "5000");
        Browser first = new Browser();
        String id = first.get(tomcats[0].url("/app/s/set?start=1")).get("id");
        List<Process> hogs = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            if (loaded) {
                for (int i = 0; i < 2; i++) { // one busy process per core, gone by itself should this JVM die
                    hogs.add(new ProcessBuilder("timeout", "-s", "KILL", "150", "sh", "-c", "while :; do :; done")
                            .start());
                }
            }
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int client = c;
                done.add(clients.submit(() -> {
                    Browser user = new Browser();
                    user.sessionId(id);
                    for (int r = 0; r < 50; r++) {
                        Browser.Page page = user.get(tomcats[(client + r) % 2].url("/app/s/incr"));
                        assertEquals(200, page.status());
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
            for (Process hog : hogs) {
                hog.descendants().forEach(ProcessHandle::destroyForcibly); // the loop under timeout
                hog.destroyForcibly();
            }
        }
        assertEquals("200", first.get(tomcats[1].url("/app/s/get")).get("attr.counter"));
        assertEquals(0, count(tomcats[0], Counter.LOCK_TIMEOUTS) + count(tomcats[1], Counter.LOCK_TIMEOUTS));
    }

    @ParameterizedTest(name = "lockingMode={0}")
    @ValueSource(strings = {"none", "all"})
    void parallelSlowRequestsOnBothTomcatsSettingDifferentAttributesKeepBoth(String lockingMode) throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", lockingMode);
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?start=1")).get("id");
        Future<Browser.Page> a;
        Future<Browser.Page> b;
        if (lockingMode.equals("none")) {
            // Both load before either stores: the overlap is certain, not a matter of timing.
            String gate = gate();
            a = pool.submit(() -> withSession(id).get(tomcats[0].url("/app/s/hold?gate=" + gate + "&a=1")));
            b = pool.submit(() -> withSession(id).get(tomcats[1].url("/app/s/hold?gate=" + gate + "&b=2")));
            awaitArrivals(gate, 2);
            open(gate);
        } else { // the second waits for the first's lock: it could never reach a gate the first waits at
            a = pool.submit(() -> withSession(id).get(tomcats[0].url("/app/s/slow?ms=700&a=1")));
            b = pool.submit(() -> withSession(id).get(tomcats[1].url("/app/s/slow?ms=700&b=2")));
        }
        assertEquals(200, a.get(30, TimeUnit.SECONDS).status());
        assertEquals(200, b.get(30, TimeUnit.SECONDS).status());
        Browser.Page after = user.get(tomcats[1].url("/app/s/get"));
        assertEquals("1", after.get("attr.a"));
        assertEquals("2", after.get("attr.b"));
        assertEquals("1", after.get("attr.start"));
        if (lockingMode.equals("none")) {
            assertTrue(count(tomcats[0], Counter.NON_STICKY_STORES_MERGED)
                    + count(tomcats[1], Counter.NON_STICKY_STORES_MERGED) >= 1, "the later store merged");
        }
    }

    @Test
    void killedPrimaryNode_nextRequestOnEitherTomcatReadsTheBackup_andThePrimaryCopyComesBack() {
        TomcatNode[] tomcats = cluster();
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice&step=2")).get("id");
        MemcachedServer primary = serverOf(id);
        awaitBackupCopy(id);

        primary.kill();
        for (TomcatNode tomcat : tomcats) {
            Browser.Page page = user.get(tomcat.url("/app/s/get"));
            assertEquals(id, page.get("id"), "same session, no new cookie");
            assertEquals("alice", page.get("attr.name"));
            assertEquals("2", page.get("attr.step"));
        }
        assertTrue(count(tomcats[0], Counter.BACKUP_READS) + count(tomcats[1], Counter.BACKUP_READS) >= 2);

        primary.restart();
        Await.until("the session's node restored from the backup", WAIT, () -> {
            user.get(tomcats[1].url("/app/s/get"));
            return primary.get(key(id)) != null;
        });
        assertEquals("alice", user.get(tomcats[0].url("/app/s/get")).get("attr.name"));
    }

    /**
     * The backup copy is written before the answer goes out: the session's node may die the moment
     * after, and the next request, on the other Tomcat, must find this request's change. tomcat1
     * reaches the nodes through proxies; the backup node's holds what tomcat1 sends it, as a queue
     * of writes stuck behind a dead node would, while tomcat2 reads that node directly.
     */
    @ParameterizedTest(name = "lockingMode={0}")
    @ValueSource(strings = {"none", "all"})
    void theSessionsNodeDyingRightAfterAnAnsweredChangeLosesNothing(String lockingMode) {
        try (DelayingProxy p1 = DelayingProxy.start(n1.port(), 0);
                DelayingProxy p2 = DelayingProxy.start(n2.port(), 0)) {
            String[] common = {"sticky", "false", "lockingMode", lockingMode, "operationTimeout", "5000",
                "sessionBackupTimeout", "4000"};
            Map<String, String> viaProxies = manager(common);
            viaProxies.put("memcachedNodes", p1.node("n1") + "," + p2.node("n2"));
            TomcatNode tomcat1 = tomcat("tomcat1", viaProxies);
            TomcatNode tomcat2 = tomcat("tomcat2", manager(common));
            Browser user = new Browser();
            String id = user.get(tomcat1.url("/app/s/incr")).get("id");
            awaitBackupCopy(id);

            (serverOf(id) == n1 ? p2 : p1).delayRequests(1_500);
            assertEquals("2", user.get(tomcat1.url("/app/s/incr")).get("attr.counter"));
            serverOf(id).kill();

            Browser.Page next = user.get(tomcat2.url("/app/s/get"));
            assertEquals(id, next.get("id"), "same session");
            assertEquals("2", next.get("attr.counter"), "the answered increment is kept");
        }
    }

    /**
     * A job or a WebSocket endpoint keeps the HttpSession and changes it after its request ended.
     * Non-sticky mode stores a session only at a request's end, so the change cannot reach the other
     * Tomcat: it must not be lost without a word.
     */
    @Test
    void aChangeMadeOutsideAnyRequestIsNamedInAWarning() {
        TomcatNode[] tomcats = cluster();
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        user.get(tomcats[0].url("/app/s/stash"));
        Browser other = new Browser();
        String otherId = other.get(tomcats[0].url("/app/s/set?name=bob")).get("id");
        other.get(tomcats[0].url("/app/s/stash"));
        List<String> quiet;
        List<String> warnings;
        try (LogCapture log = new LogCapture("io.msm")) {
            Await.until("the requests' copies let go", WAIT, () -> tomcats[0].manager(APP).findSessions().length == 0);
            // No change: the same object set again (as Spring's RequestContextListener does after the
            // request's end), and a logout, which deletes the session everywhere.
            javax.servlet.http.HttpSession bobs = SessionServlet.stashed(otherId);
            bobs.setAttribute("name", bobs.getAttribute("name"));
            bobs.invalidate();
            quiet = log.lines(r -> r.getLevel() == java.util.logging.Level.WARNING);
            SessionServlet.stashed(id).setAttribute("job", "done");
            warnings = log.lines(r -> r.getLevel() == java.util.logging.Level.WARNING);
        }
        assertTrue(quiet.stream().noneMatch(l -> l.contains("outside any request")), quiet.toString());
        assertTrue(warnings.stream().anyMatch(l -> l.contains("'job'") && l.contains("outside any request")
                && l.contains("lost") && l.contains(SessionId.masked(id)) && !l.contains(id)),
                "a WARN names the attribute and the masked session: " + warnings);
        Browser.Page next = user.get(tomcats[1].url("/app/s/get"));
        assertEquals("alice", next.get("attr.name"), "the session itself is intact");
        assertNull(next.get("attr.job"), "as the WARN says, the change is not stored");
        assertNotEquals(otherId, other.get(tomcats[1].url("/app/s/get")).get("id"), "the logout reached the cluster");
    }

    /**
     * The same for the timeout: a WebSocket endpoint's {@code setMaxInactiveInterval(-1)} while its
     * socket is open is a change no request stores, and must not be lost without a word either.
     */
    @Test
    void aTimeoutChangedOutsideAnyRequestIsNamedInAWarning() {
        TomcatNode[] tomcats = cluster();
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        user.get(tomcats[0].url("/app/s/stash"));
        List<String> warnings;
        try (LogCapture log = new LogCapture("io.msm")) {
            Await.until("the request's copy let go", WAIT, () -> tomcats[0].manager(APP).findSessions().length == 0);
            SessionServlet.stashed(id).setMaxInactiveInterval(-1);
            warnings = log.lines(r -> r.getLevel() == java.util.logging.Level.WARNING);
        }
        assertTrue(warnings.stream().anyMatch(l -> l.contains("setMaxInactiveInterval")
                && l.contains("outside any request") && l.contains("lost") && l.contains(SessionId.masked(id))),
                "a WARN names the change and the masked session: " + warnings);
    }

    /** Evicted by its node while a request used it: that request's copy is the newest there is, and is stored. */
    @Test
    void aSessionEvictedDuringARequestIsStoredWithThatRequestsChange() throws Exception {
        TomcatNode[] tomcats = cluster();
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?a=1")).get("id");
        awaitBackupCopy(id);
        String gate = gate();
        Future<Browser.Page> held = pool.submit(() -> withSession(id).get(tomcats[0].url("/app/s/hold?gate=" + gate
                + "&b=2")));
        awaitArrivals(gate, 1); // the session is loaded: the servlet holds it
        serverOf(id).delete(key(id)); // evicted: no removal marker, unlike an invalidation
        assertFalse(held.isDone(), "the request still holds the session");
        open(gate);
        assertEquals(200, held.get(30, TimeUnit.SECONDS).status());
        Browser.Page next = user.get(tomcats[1].url("/app/s/get"));
        assertEquals(id, next.get("id"), "same session");
        assertEquals("1", next.get("attr.a"));
        assertEquals("2", next.get("attr.b"), "the change of the request during which it was evicted");
    }

    @Test
    void aSessionOnlyReadOutlivesItsTimeout_anIdleOneExpiresEverywhere_sessionDestroyedOnce() throws Exception {
        TomcatNode[] tomcats = cluster();
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        user.get(tomcats[1].url("/app/s/timeout?s=3"));
        long end = System.nanoTime() + 5_000_000_000L;
        for (int i = 0; System.nanoTime() < end; i++) {
            Browser.Page page = user.get(tomcats[i % 2].url("/app/s/get"));
            assertEquals(id, page.get("id"));
            assertEquals("alice", page.get("attr.name"), "read inside its timeout, so still alive");
            Thread.sleep(600);
        }
        Await.until("the idle session destroyed", Duration.ofSeconds(15), () -> SessionEvents.destroyed(id) >= 1);
        Thread.sleep(2500); // two more expiry checks on each Tomcat: nobody fires it again
        assertEquals(1, SessionEvents.destroyed(id), "sessionDestroyed fires once in the whole cluster");
        assertNull(serverOf(id).get(key(id)));
        assertNull(otherServer(id).get(backupKey(id)));
        Browser.Page after = user.get(tomcats[1].url("/app/s/peek"));
        assertEquals("none", after.get("session"));
    }

    @Test
    void autoLockingSkipsTheLockForUrisLearnedReadOnly() {
        TomcatNode[] tomcats = cluster("lockingMode", "auto");
        Browser user = new Browser();
        user.get(tomcats[0].url("/app/s/set?name=alice"));
        for (int i = 0; i < 2; i++) {
            user.get(tomcats[0].url("/app/s/get")); // learning: still locked
        }
        long acquired = count(tomcats[0], Counter.LOCKS_ACQUIRED);
        long skipped = count(tomcats[0], Counter.LOCKS_SKIPPED);
        user.get(tomcats[0].url("/app/s/get"));
        assertEquals(acquired, count(tomcats[0], Counter.LOCKS_ACQUIRED), "a read-only URI takes no lock");
        assertEquals(skipped + 1, count(tomcats[0], Counter.LOCKS_SKIPPED));
        user.get(tomcats[0].url("/app/s/incr"));
        assertEquals(acquired + 1, count(tomcats[0], Counter.LOCKS_ACQUIRED), "a writing URI keeps locking");
        user.postForm(tomcats[0].url("/app/s/get"), "x=1");
        assertEquals(acquired + 2, count(tomcats[0], Counter.LOCKS_ACQUIRED), "what GETs taught applies to no POST");
    }

    /**
     * A page that redirects a user to log in changes nothing for that user; anyone with a session could
     * send it such requests, and it must not then run unlocked for the users it writes for.
     */
    @Test
    void autoLockingLearnsNothingFromARedirect() {
        TomcatNode[] tomcats = cluster("lockingMode", "auto");
        Browser user = new Browser();
        user.get(tomcats[0].url("/app/s/set?name=mallory"));
        for (int i = 0; i < 3; i++) {
            assertEquals(302, user.get(tomcats[0].url("/app/s/redirect")).status());
        }
        long acquired = count(tomcats[0], Counter.LOCKS_ACQUIRED);
        user.get(tomcats[0].url("/app/s/redirect"));
        assertEquals(acquired + 1, count(tomcats[0], Counter.LOCKS_ACQUIRED), "a redirected URI keeps locking");
    }

    /**
     * A pattern matches the whole path and query: one that starts with {@code .*}, and one anchored at the
     * context path, as the start check's own example is, which an HTTP method in the string would break.
     */
    @ParameterizedTest
    @ValueSource(strings = {"uriPattern:.*/s/(set|incr).*", "uriPattern:/app/s/(set|incr)(\\?.*)?"})
    void uriPatternLocksOnlyMatchingRequests(String lockingMode) {
        TomcatNode[] tomcats = cluster("lockingMode", lockingMode);
        Browser user = new Browser();
        user.get(tomcats[0].url("/app/s/set?name=alice"));
        long acquired = count(tomcats[0], Counter.LOCKS_ACQUIRED);
        user.get(tomcats[0].url("/app/s/get"));
        assertEquals(acquired, count(tomcats[0], Counter.LOCKS_ACQUIRED));
        user.get(tomcats[0].url("/app/s/incr"));
        assertEquals(acquired + 1, count(tomcats[0], Counter.LOCKS_ACQUIRED));
        user.postForm(tomcats[0].url("/app/s/set?name=bob"), "x=1");
        assertEquals(acquired + 2, count(tomcats[0], Counter.LOCKS_ACQUIRED), "a POST matches as a GET does");
    }

    @Test
    void switchingAWebappFromStickyToNonStickyNeedsOnlyTheAttribute() {
        TomcatNode sticky = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String id = user.get(sticky.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        sticky.close();

        TomcatNode nonSticky = tomcat("tomcat2", manager("sticky", "false"));
        Browser.Page page = user.get(nonSticky.url("/app/s/get"));
        assertEquals(id, page.get("id"));
        assertEquals("alice", page.get("attr.name"));
        assertNotNull(SessionId.parse(id).jvmRoute(), "the sticky id keeps working as it is");
    }

    /**
     * While a webapp switches modes, a session a non-sticky Tomcat made (its id has no route, so a sticky
     * balancer sends it anywhere) is taken over by a sticky one, which renames it, and its user logs out
     * there. The old id must not serve the session logged in on a non-sticky Tomcat from its backup copy.
     */
    @Test
    void aLogoutOnAStickyTomcatEndsTheIdANonStickyOneGaveTheSession() {
        TomcatNode nonSticky = tomcat("tomcat1", manager("sticky", "false"));
        TomcatNode sticky = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String old = user.get(nonSticky.url("/app/s/set?name=alice")).get("id");
        String renamed = user.get(sticky.url("/app/s/get")).get("id");
        assertNotEquals(old, renamed, "taken over under the sticky Tomcat's route");
        awaitStored(renamed);
        assertEquals(200, user.get(sticky.url("/app/s/invalidate")).status());

        Browser withTheOldCookie = new Browser();
        withTheOldCookie.sessionId(old);
        Browser.Page page = withTheOldCookie.get(nonSticky.url("/app/s/get"));
        assertNull(page.get("attr.name"), "the old id served the session after its logout: " + page.get("id"));
    }

    /** With one node a non-sticky session has no backup copy: the operator is told once, at start. */
    @Test
    void withASingleNodeTheMissingBackupIsLoggedOnceAtStart() {
        java.util.List<String> log;
        try (io.msm.serializers.Transcoding.Warnings warnings = io.msm.serializers.Transcoding.Warnings.capture("io.msm")) {
            TomcatNode tomcat = tomcat("tomcat1", manager("sticky", "false", "memcachedNodes", n1.node("n1")));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, new Browser().get(tomcat.url("/app/s/set?name=alice")).status());
            }
            log = warnings.messages();
        }
        assertEquals(1, log.stream().filter(l -> l.contains("no backup copy")).count(), "once: " + log);
    }
}

package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.core.NonStickySessions;
import io.msm.core.SessionId;
import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;
import io.msm.serializers.Transcoding;
import io.msm.testkit.MemcachedServer;

/**
 * sticky="false", request by request: what a request loads, keeps in memory, stores and locks, and
 * what is left in memcached after invalidation and expiry. Overlapping requests wait at gates of
 * {@link SessionServlet} that the test opens, so overlaps are certain without sleeps.
 */
class NonStickyRequestsIT extends GatedClusterTest {
    private static final String PREFIX = "localhost_" + APP + "_";

    /**
     * One client sends forty requests with one session's cookie while a request holds that session:
     * past 16 waiting for its turn, the others go on at once (their changes merged), so one cookie
     * cannot hold forty of Tomcat's threads for lockWaitTimeout each.
     */
    @Test
    void requestsPastTheWaitingLimitOfOneSessionGoOnAtOnce() throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager("sticky", "false", "lockingMode", "all",
                "lockWaitTimeout", "60000"));
        String id = new Browser().get(tomcat.url("/app/s/set?start=1")).get("id");
        fortyWhileOneHoldsTheSession(tomcat, tomcat, id);
    }

    /**
     * The same forty, on the Tomcat that does not hold the session: its first request waits for the
     * lock the other Tomcat holds, and counts towards the limit. Past it, requests go on as if they
     * did not lock, on a copy read without the lock; their changes are merged with the holder's.
     */
    @Test
    void requestsPastTheWaitingLimitGoOnAtOnce_whileTheFirstWaitsForTheLockAnotherTomcatHolds() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "all", "lockWaitTimeout", "60000");
        String id = new Browser().get(tomcats[0].url("/app/s/set?start=1")).get("id");
        fortyWhileOneHoldsTheSession(tomcats[0], tomcats[1], id);
        assertNoSessionInMemory(tomcats);
    }

    /**
     * Forty requests on {@code tomcat}, each setting an attribute of its own, while a request on
     * {@code holderOn} holds the session: all but 16 answer while it holds it, and every change is
     * kept, on both Tomcats.
     */
    private void fortyWhileOneHoldsTheSession(TomcatNode holderOn, TomcatNode tomcat, String id) throws Exception {
        String gate = gate();
        Future<Browser.Page> holder = pool.submit(
                () -> withSession(id).get(holderOn.url("/app/s/hold?gate=" + gate + "&a=1")));
        awaitArrivals(gate, 1);

        int parallel = 40;
        List<Future<Browser.Page>> others = new ArrayList<>();
        for (int i = 0; i < parallel; i++) {
            String change = "/app/s/set?k" + i + "=1";
            others.add(pool.submit(() -> withSession(id).get(tomcat.url(change))));
        }
        Await.until("all but 16 answered while the holder holds the session", WAIT,
                () -> others.stream().filter(Future::isDone).count() >= parallel - 16);
        assertFalse(holder.isDone(), "the holder still holds the session");

        open(gate);
        assertEquals(200, holder.get(60, TimeUnit.SECONDS).status());
        for (Future<Browser.Page> answer : others) {
            assertEquals(200, answer.get(60, TimeUnit.SECONDS).status());
        }
        for (TomcatNode t : new TomcatNode[] {holderOn, tomcat}) {
            Browser.Page after = withSession(id).get(t.url("/app/s/get"));
            assertEquals("1", after.get("attr.a"), "the holder's change, on " + t.route());
            for (int i = 0; i < parallel; i++) {
                assertEquals("1", after.get("attr.k" + i), "every request's change was kept, on " + t.route());
            }
        }
    }

    /**
     * Past the limit, requests share a copy read without the lock. A login among them renames it
     * (fixation protection): the old id no longer reaches it, and the new id does, logged in, with
     * locking requests too. The login stores the renamed copy as it ends, while the others still run,
     * and the copy under the old id is deleted behind that store.
     */
    @Test
    void aLoginPastTheWaitingLimitRenamesTheSharedCopy_onlyTheNewIdReachesIt() throws Exception {
        PastLimit past = new PastLimit();
        TomcatNode[] tomcats = past.tomcats;
        String fixed = past.id;

        Browser.Page login = withSession(fixed).get(tomcats[1].url("/app/s/login?user=alice&password=secret"));
        assertEquals("alice", login.get("user"), login.body());
        String renamed = login.get("id");
        assertNotEquals(fixed, renamed, "the login renamed the session");

        Browser.Page attacker = withSession(fixed).get(tomcats[1].url("/app/s/peek"));
        // None once the old copy's delete, queued behind the store, is done; before, the old copy, logged out.
        assertNotEquals(renamed, attacker.get("id"), "the old id never reaches the renamed session: " + attacker.body());
        assertEquals("null", attacker.get("user"));
        Browser.Page victim = withSession(renamed).get(tomcats[1].url("/app/s/get"));
        assertEquals(renamed, victim.get("id"), victim.body());
        assertEquals("alice", victim.get("user"));
        open(past.gate);
        open(past.holderGate);
    }

    /**
     * A logout in a request on the copy read without the lock, once the first request's locked copy
     * replaced it in memory: the locked copy ends too, and later requests find no session.
     */
    @Test
    void aLogoutOnTheCopyReadWithoutTheLockEndsTheLockedCopyToo_laterRequestsFindNoSession() throws Exception {
        PastLimit past = new PastLimit();
        TomcatNode[] tomcats = past.tomcats;
        String id = past.id;
        String logoutGate = gate();
        Future<Browser.Page> logout = pool.submit(
                () -> withSession(id).get(tomcats[1].url("/app/s/hold?gate=" + logoutGate + "&invalidate=1")));
        awaitArrivals(logoutGate, 1); // past the limit too: on the copy read without the lock

        open(past.holderGate); // tomcat2's first request takes the lock, loads, and waits at the gate
        awaitArrivals(past.gate, 5);
        open(logoutGate);
        assertEquals("invalidated", logout.get(30, TimeUnit.SECONDS).body().trim());
        for (int i = 0; i < 3; i++) {
            Browser.Page later = withSession(id).get(tomcats[1].url("/app/s/peek"));
            assertEquals("none", later.get("session"), "request " + i + " after the logout: " + later.body());
        }
        open(past.gate);
    }

    /**
     * A locking request whose wait for its turn runs out goes on without the lock. The request that
     * has the turn may itself be waiting for another Tomcat's lock; taking the lock too would wait
     * for a request of the same Tomcat, and count a third lock wait that timed out.
     */
    @Test
    void aRequestWithoutItsTurnAfterLockWaitTimeoutGoesOnWithoutTheLock() throws Exception {
        long waitMillis = 6000; // half of it is the margin on either side of the offset below, on a busy machine
        TomcatNode[] tomcats = cluster("lockingMode", "all", "lockWaitTimeout", Long.toString(waitMillis));
        String id = new Browser().get(tomcats[0].url("/app/s/set?start=1")).get("id");
        String holderGate = holdLockOn(tomcats[0], id);
        long timeouts = count(tomcats[1], Counter.LOCK_TIMEOUTS);
        // Has tomcat2's turn once its wait for the lock ran out (the first timeout), and keeps it.
        String turnGate = gate();
        Future<Browser.Page> turnHolder = pool.submit(
                () -> withSession(id).get(tomcats[1].url("/app/s/hold?gate=" + turnGate + "&p=1")));
        awaitArrivals(turnGate, 1);
        assertEquals(timeouts + 1, count(tomcats[1], Counter.LOCK_TIMEOUTS));

        List<Future<Browser.Page>> two = new ArrayList<>();
        for (String change : Arrays.asList("/app/s/set?x=1", "/app/s/set?y=1")) {
            two.add(pool.submit(() -> withSession(id).get(tomcats[1].url(change))));
        }
        Await.until("both to wait for the turn", WAIT, () -> waitingForTheirTurn() == 2);
        // A deliberate offset, not a wait for an event: the turn goes to one of the two half a
        // lockWaitTimeout after both began to wait for it, so the other's wait runs out while the
        // first waits for the lock tomcat1 holds (the second timeout).
        Thread.sleep(waitMillis / 2);
        open(turnGate);
        assertEquals(200, turnHolder.get(30, TimeUnit.SECONDS).status());
        for (Future<Browser.Page> answer : two) {
            assertEquals(200, answer.get(30, TimeUnit.SECONDS).status());
        }
        assertEquals(timeouts + 2, count(tomcats[1], Counter.LOCK_TIMEOUTS),
                "the request without its turn did not wait for the lock");

        open(holderGate);
        Await.until("the lock to be released", WAIT, () -> serverOf(id).get(lockKey(id)) == null);
        for (TomcatNode t : tomcats) {
            Browser.Page after = withSession(id).get(t.url("/app/s/get"));
            for (String name : Arrays.asList("a", "p", "x", "y", "start")) {
                assertEquals("1", after.get("attr." + name), name + ", on " + t.route() + ": " + after.body());
            }
        }
    }

    /** @return threads of this JVM's Tomcats waiting for a session's turn */
    private static long waitingForTheirTurn() {
        return Thread.getAllStackTraces().values().stream()
                .filter(stack -> Arrays.stream(stack).anyMatch(frame -> frame.getMethodName().equals("waitForPermit")
                        && frame.getClassName().endsWith(".NonStickyRequests")))
                .count();
    }

    /**
     * Two non-sticky Tomcats without locks, a session made on tomcat2, and a long request of it (a
     * download) on tomcat1, waiting at a gate: what tomcat1's other requests of it do meanwhile.
     */
    private final class SharedByADownload {
        final TomcatNode[] tomcats = cluster("lockingMode", "none"); // with a lock, they would take turns
        final TomcatNode tomcat = tomcats[0];
        final Browser user = new Browser();
        final String id;
        final String gate = gate();
        final Future<Browser.Page> download;

        /** @param made what tomcat2 makes the session with; @param downloadQuery what the download then sets */
        SharedByADownload(String made, String downloadQuery) {
            id = user.get(tomcats[1].url(made)).get("id");
            download = pool.submit(() -> withSession(id).get(tomcat.url("/app/s/hold?gate=" + gate + downloadQuery)));
            awaitArrivals(gate, 1);
        }

        /** Lets the download end, and checks it did. */
        void end() throws Exception {
            open(gate);
            assertEquals(200, download.get(30, TimeUnit.SECONDS).status());
        }
    }

    /**
     * The user's requests to {@code uri} on one Tomcat, every 400 ms for 7 s (more than twice a 3 s
     * timeout), each finding alice's session {@code id} that nobody destroyed.
     *
     * @return how many requests were made
     */
    private int useForSevenSeconds(Browser user, TomcatNode tomcat, String uri, String id) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(7).toNanos();
        int requests = 0;
        while (System.nanoTime() < end) {
            Browser.Page page = user.get(tomcat.url(uri));
            requests++;
            assertEquals(id, page.get("id"), "request " + requests + ": the same session");
            assertEquals("alice", page.get("attr.name"), "request " + requests);
            assertEquals(0, SessionEvents.destroyed(id), "request " + requests + ": nobody destroyed it");
            Thread.sleep(400);
        }
        return requests;
    }

    /**
     * A session with a 3-second timeout (lockingMode none), and a request on tomcat1 held at a gate
     * (an upload, a download, a long poll) for as long as the test runs: past the timeout.
     */
    private final class LongRequestPastTheTimeout {
        final TomcatNode[] tomcats = cluster("lockingMode", "none");
        final Browser user = new Browser();
        final String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        final String gate = gate();
        final Future<Browser.Page> request;

        /** @param query what the held request sets besides */
        LongRequestPastTheTimeout(String query) {
            user.get(tomcats[0].url("/app/s/timeout?s=3"));
            request = pool.submit(() -> withSession(id).get(
                    tomcats[0].url("/app/s/hold?gate=" + gate + "&gateSeconds=60" + query)));
            awaitArrivals(gate, 1);
        }

        /** Lets the request end, and checks it did. */
        void end() throws Exception {
            open(gate);
            assertEquals(200, request.get(30, TimeUnit.SECONDS).status());
        }
    }

    /** Requests for /peek do not lock; every other request does. */
    private static final String READS_DO_NOT_LOCK = "uriPattern:.*/s/(?!peek).*";

    /** @return the gate at which a request on the Tomcat given holds the session's lock */
    private String holdLockOn(TomcatNode tomcat, String id) {
        String holderGate = gate();
        // Held up to a minute: the test opens it, and a timeline of lock waits may outlast 15 s. Nobody
        // waits for this answer (the Browser would give up after 20 s).
        pool.submit(() -> withSession(id).get(tomcat.url("/app/s/hold?gate=" + holderGate + "&gateSeconds=60&a=1")));
        awaitArrivals(holderGate, 1);
        return holderGate;
    }

    /**
     * A session tomcat1 holds locked (with lockingMode {@link #READS_DO_NOT_LOCK}), and twenty of its
     * requests on tomcat2 (see {@link #holdSixteenWaitersAndFourPastThem}).
     */
    private final class PastLimit {
        final TomcatNode[] tomcats = cluster("lockingMode", READS_DO_NOT_LOCK, "lockWaitTimeout", "60000");
        final String id = new Browser().get(tomcats[0].url("/app/s/set?start=1")).get("id");
        /** Where tomcat1's request holding the lock waits. */
        final String holderGate = holdLockOn(tomcats[0], id);
        /** Where the four requests past the limit wait. */
        final String gate = holdSixteenWaitersAndFourPastThem(tomcats[1], id);
    }

    /**
     * Twenty locking requests of a session another Tomcat holds locked: the first waits for the
     * lock, fifteen for their turn, and four past the limit are let through and held at a gate.
     *
     * @return the gate holding the four
     */
    private String holdSixteenWaitersAndFourPastThem(TomcatNode tomcat, String id) {
        String pastLimit = gate();
        for (int i = 0; i < 20; i++) {
            // Held through the test body, which a busy machine may stretch past the default 15 s.
            String change = "/app/s/hold?gate=" + pastLimit + "&gateSeconds=60&k" + i + "=1";
            pool.submit(() -> withSession(id).get(tomcat.url(change)));
        }
        awaitArrivals(pastLimit, 4);
        return pastLimit;
    }

    @Test
    void aRequestThatNeverCallsGetSessionLoadsAndLocksNothing() {
        TomcatNode[] tomcats = cluster("lockingMode", "all");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        TomcatNode other = tomcats[1];
        long loads = count(other, Counter.LOADS);
        long misses = count(other, Counter.LOAD_MISSES);
        long locks = count(other, Counter.LOCKS_ACQUIRED);

        // Tomcat's authenticator (here the stand-in for webapps without a login method) asks for the
        // session of every request that carries a cookie: that alone must not load it.
        Browser.Page page = user.get(other.url("/app/s/none"));

        assertEquals(200, page.status());
        assertNull(page.newSessionCookie(), "the session was left alone");
        assertEquals(loads, count(other, Counter.LOADS), "nothing loaded");
        assertEquals(misses, count(other, Counter.LOAD_MISSES), "nothing even looked up");
        assertEquals(locks, count(other, Counter.LOCKS_ACQUIRED), "no lock taken");
        assertEquals(0, other.manager(APP).findSessions().length);
        // The control: a request that does use the session loads it.
        assertEquals("alice", user.get(other.url("/app/s/get")).get("attr.name"));
        assertEquals(loads + 1, count(other, Counter.LOADS));
    }

    @Test
    void aLoginByRequestLoginIsStillTheRequestsOnceTheWebappLoadsTheSession_onTheOtherTomcat() {
        // In a webapp without container login, Tomcat's authenticator no longer loads the session to
        // look for a cached login; msm puts the session's login on the request when the webapp loads it.
        TomcatNode[] tomcats = cluster("lockingMode", "all");
        Browser user = new Browser();
        user.get(tomcats[0].url("/app/s/set?name=alice"));
        Browser.Page login = user.get(tomcats[0].url("/app/s/login?user=alice&password=secret"));
        assertEquals("alice", login.get("user"), login.body());

        Browser.Page next = user.get(tomcats[1].url("/app/s/get"));
        assertEquals("alice", next.get("user"), "the cached login, as Tomcat's authenticator would have set it");
        assertEquals("alice", next.get("attr.name"));
    }

    @Test
    void aLoginByRequestLoginOpensProtectedPagesOnBothTomcats_withoutALoginMethod() {
        // Tomcat's authenticator checks the constraint before the webapp runs: it needs the login
        // cached in the session then, so msm must not answer its lookup from memory.
        Map<String, String> attributes = manager("sticky", "false", "lockingMode", "all");
        TomcatNode[] tomcats = {started(new TomcatNode("tomcat1").webapp(APP, attributes, "NONE")),
            started(new TomcatNode("tomcat2").webapp(APP, attributes, "NONE"))};
        Browser user = new Browser();
        assertEquals(403, user.get(tomcats[0].url("/app/secure/get")).status(), "the control: not logged in");
        Browser.Page login = user.get(tomcats[0].url("/app/s/login?user=alice&password=secret"));
        assertEquals("alice", login.get("user"), login.body());

        for (TomcatNode tomcat : tomcats) {
            Browser.Page page = user.get(tomcat.url("/app/secure/get"));
            assertEquals(200, page.status(), tomcat.route() + ": " + page.body());
            assertEquals("alice", page.get("user"));
        }
    }

    @Test
    void noTomcatKeepsTheSessionInMemoryOnceItsRequestsEnd() throws Exception {
        TomcatNode[] tomcats = cluster();
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        assertNoSessionInMemory(tomcats);
        user.get(tomcats[1].url("/app/s/get"));
        assertNoSessionInMemory(tomcats);
        user.get(tomcats[1].url("/app/s/set?step=2"));
        assertNoSessionInMemory(tomcats);

        // The control: while a request uses it, the session is in that Tomcat's memory.
        String gate = gate();
        Future<Browser.Page> held = pool.submit(() -> withSession(id).get(tomcats[0].url("/app/s/hold?gate=" + gate)));
        awaitArrivals(gate, 1);
        assertEquals(1, tomcats[0].manager(APP).findSessions().length);
        assertEquals(id, tomcats[0].manager(APP).findSessions()[0].getIdInternal());
        open(gate);
        assertEquals(200, held.get(30, TimeUnit.SECONDS).status());
        assertNoSessionInMemory(tomcats);
        assertEquals("2", user.get(tomcats[0].url("/app/s/get")).get("attr.step"), "memcached holds it");
    }

    /**
     * A download and a short request that changes the session share one copy. The short one's change
     * is in memcached before its answer, as when it is alone, not when the download ends: the next
     * request on another Tomcat sees it, and a Tomcat dying meanwhile loses nothing the user saw
     * saved. The download's own change is added when it ends.
     */
    @Test
    void aChangeOfARequestEndingBeforeALongParallelOneIsStoredBeforeItsAnswer() throws Exception {
        SharedByADownload shared = new SharedByADownload("/app/s/set?start=1", "&downloaded=1");
        String id = shared.id;

        assertEquals("draft", withSession(id).get(shared.tomcat.url("/app/s/set?form=draft")).get("attr.form"));
        // The next request, sent to the other Tomcat (round robin, or a failover), loads it from memcached.
        Browser.Page next = withSession(id).get(shared.tomcats[1].url("/app/s/get"));
        assertEquals("draft", next.get("attr.form"), next.body());
        assertFalse(shared.download.isDone(), "the download still runs");
        assertEquals(1, shared.tomcat.manager(APP).findSessions().length, "still in memory, for the download");

        shared.end();
        assertNoSessionInMemory(shared.tomcats);
        Browser.Page after = shared.user.get(shared.tomcats[1].url("/app/s/get"));
        assertEquals("draft", after.get("attr.form"), after.body());
        assertEquals("1", after.get("attr.downloaded"), after.body());
        assertEquals("1", after.get("attr.start"), after.body());
    }

    /**
     * The same, and then the user changes the form again on the other Tomcat while the download
     * still runs here: the download's end must not write this Tomcat's older form back over it.
     */
    @Test
    void aChangeStoredBeforeALongParallelRequestEndsIsNotWrittenAgainOverALaterChangeElsewhere() throws Exception {
        SharedByADownload shared = new SharedByADownload("/app/s/set?start=1", "&downloaded=1");
        String id = shared.id;
        withSession(id).get(shared.tomcat.url("/app/s/set?form=draft"));

        Browser.Page later = withSession(id).get(shared.tomcats[1].url("/app/s/set?form=final"));
        assertEquals("final", later.get("attr.form"), later.body());
        assertFalse(shared.download.isDone(), "the download still runs");

        shared.end();
        Browser.Page after = shared.user.get(shared.tomcats[1].url("/app/s/get"));
        assertEquals("final", after.get("attr.form"), "the later change wins: " + after.body());
        assertEquals("1", after.get("attr.downloaded"), after.body());
    }

    /** A new id alone (changeSessionId, nothing else changed) is a change to store too: its cookie is sent. */
    @Test
    void aNewIdAloneOnASharedCopyIsStoredBeforeItsAnswer() throws Exception {
        SharedByADownload shared = new SharedByADownload("/app/s/set?start=1", "");

        String renamed = withSession(shared.id).get(shared.tomcat.url("/app/s/rename")).get("id");
        assertNotEquals(shared.id, renamed);
        Browser.Page next = withSession(renamed).get(shared.tomcats[1].url("/app/s/get"));
        assertEquals(renamed, next.get("id"), "the other Tomcat finds the session under its new id: " + next.body());
        assertEquals("1", next.get("attr.start"), next.body());
        shared.end();
    }

    /**
     * After such a store, memcached's token moved past the load's. The bytes there are this Tomcat's
     * own write, so the last request writes the whole copy again; a merge would apply only what went
     * through setAttribute, and leave out a value changed in place meanwhile.
     */
    @Test
    void afterAStoreOfTheSharedCopy_theLastToEndStillStoresAValueChangedInPlace() throws Exception {
        SharedByADownload shared = new SharedByADownload("/app/s/append?item=a", "");
        TomcatNode tomcat = shared.tomcat;
        withSession(shared.id).get(tomcat.url("/app/s/set?form=draft")); // stored at its end: the download still runs
        withSession(shared.id).get(tomcat.url("/app/s/append?item=b")); // in place: no setAttribute
        long merged = count(tomcat, Counter.NON_STICKY_STORES_MERGED);

        shared.end();
        Browser.Page after = shared.user.get(shared.tomcats[1].url("/app/s/get"));
        assertEquals("[a, b]", after.get("attr.items"), after.body());
        assertEquals("draft", after.get("attr.form"), after.body());
        assertEquals(merged, count(tomcat, Counter.NON_STICKY_STORES_MERGED), "its own write is no copy to merge with");
    }

    @Test
    void parallelRequestsInOneTomcatShareOneCopy_loadedOnce_storedWithoutMerging() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "none"); // with a lock, they would take turns
        TomcatNode tomcat = tomcats[0];
        Browser user = new Browser();
        String id = user.get(tomcats[1].url("/app/s/set?start=1")).get("id");
        long loads = count(tomcat, Counter.LOADS);
        long stores = count(tomcat, Counter.NON_STICKY_STORES);
        long merged = count(tomcat, Counter.NON_STICKY_STORES_MERGED);

        String gate = gate();
        Future<Browser.Page> a = pool.submit(() -> withSession(id).get(tomcat.url("/app/s/hold?gate=" + gate + "&a=1")));
        Future<Browser.Page> b = pool.submit(() -> withSession(id).get(tomcat.url("/app/s/hold?gate=" + gate + "&b=2")));
        awaitArrivals(gate, 2);
        assertEquals(1, tomcat.manager(APP).findSessions().length, "both requests inside, one copy in memory");
        open(gate);
        assertEquals(200, a.get(30, TimeUnit.SECONDS).status());
        assertEquals(200, b.get(30, TimeUnit.SECONDS).status());

        assertEquals(loads + 1, count(tomcat, Counter.LOADS), "loaded once for both");
        // Twice: the first to end stores its change, the last writes over that, its own write; once when the
        // last left before the first's store began, which then has nothing to do.
        long stored = count(tomcat, Counter.NON_STICKY_STORES) - stores;
        assertTrue(stored == 1 || stored == 2, stored + " stores");
        assertEquals(merged, count(tomcat, Counter.NON_STICKY_STORES_MERGED), "nothing to merge: one copy");
        assertEquals(0, tomcat.manager(APP).findSessions().length);
        Browser.Page after = user.get(tomcats[1].url("/app/s/get"));
        assertEquals("1", after.get("attr.a"));
        assertEquals("2", after.get("attr.b"));
        assertEquals("1", after.get("attr.start"));
    }

    @Test
    void aSessionReadOnlyOnTheOtherTomcatPastItsTimeoutIsNotExpiredByItsCreator_norRewritten() throws Exception {
        TomcatNode[] tomcats = cluster();
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        user.get(tomcats[0].url("/app/s/timeout?s=3"));
        long stores = count(tomcats[1], Counter.NON_STICKY_STORES);

        // Reads only on tomcat2, each well inside the 3 s timeout, for more than twice the timeout:
        // tomcat1, which stored it and watches its expiry, checks it every second meanwhile.
        int reads = useForSevenSeconds(user, tomcats[1], "/app/s/get", id);

        assertEquals(0, count(tomcats[0], Counter.SESSIONS_EXPIRED_IN_CLUSTER));
        assertEquals(0, count(tomcats[1], Counter.SESSIONS_EXPIRED_IN_CLUSTER));
        assertEquals(stores, count(tomcats[1], Counter.NON_STICKY_STORES), "reads never rewrite the session");
        assertTrue(count(tomcats[1], Counter.NON_STICKY_STORES_SKIPPED) >= reads);
        Browser.Page onCreator = user.get(tomcats[0].url("/app/s/get"));
        assertEquals(id, onCreator.get("id"), "still alive on the Tomcat that created it");
        assertEquals("alice", onCreator.get("attr.name"));
        assertEquals(0, SessionEvents.destroyed(id));
    }

    /**
     * A long request on one Tomcat (an upload) outlasts the timeout while the user works on the
     * other. Tomcat's idle check on the first one knows only its own requests: it must not end the
     * copy they use, since that ends the session for the whole cluster and logs the user out.
     */
    @Test
    void aRequestOutlastingTheTimeoutOnOneTomcatDoesNotEndTheSessionTheUserKeepsUsingOnTheOther() throws Exception {
        LongRequestPastTheTimeout held = new LongRequestPastTheTimeout("&uploaded=1");
        TomcatNode[] tomcats = held.tomcats;
        Browser user = held.user;
        String id = held.id;
        Future<Browser.Page> upload = held.request;

        // Tomcat's idle check runs every second on tomcat1 meanwhile, for more than twice the timeout.
        useForSevenSeconds(user, tomcats[1], "/app/s/get", id);
        assertFalse(upload.isDone(), "the upload still runs");

        held.end();
        Browser.Page after = user.get(tomcats[1].url("/app/s/get"));
        assertEquals(id, after.get("id"), after.body());
        assertEquals("1", after.get("attr.uploaded"), "the upload's change is stored: " + after.body());
        assertEquals(0, SessionEvents.destroyed(id));
    }

    /**
     * A long poll stays open on one Tomcat while the user's clicks, which change nothing (or set a
     * value equal to the one there, as frameworks do at each request's end), all go to that Tomcat
     * and join the copy it holds: they count as accesses for the whole cluster, so its expiry does
     * not end the session while the user works.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/app/s/get", "/app/s/set?name=alice"})
    void clicksThatJoinTheCopyALongRequestHoldsKeepTheSessionAliveForTheCluster(String click) throws Exception {
        LongRequestPastTheTimeout held = new LongRequestPastTheTimeout("");
        TomcatNode[] tomcats = held.tomcats;
        Browser user = held.user;
        String id = held.id;

        useForSevenSeconds(user, tomcats[0], click, id);
        Browser.Page elsewhere = withSession(id).get(tomcats[1].url("/app/s/get"));
        assertEquals(id, elsewhere.get("id"), "the other Tomcat finds it alive: " + elsewhere.body());
        assertEquals("alice", elsewhere.get("attr.name"));

        held.end();
        assertEquals(0, SessionEvents.destroyed(id));
    }

    /**
     * The other side of the test above: nobody uses the session but a download that outlasts the
     * timeout, so the cluster's expiry ends it. A request arriving at the download's Tomcat then
     * must not be served the copy the download still holds: the session ended.
     */
    @Test
    void aSessionTheClusterExpiredIsNotServedFromTheCopyALongRequestStillHolds() throws Exception {
        LongRequestPastTheTimeout held = new LongRequestPastTheTimeout("");
        TomcatNode[] tomcats = held.tomcats;
        String id = held.id;

        Await.until("the idle session destroyed by the cluster's expiry", Duration.ofSeconds(20),
                () -> SessionEvents.destroyed(id) >= 1);
        Browser.Page next = withSession(id).get(tomcats[0].url("/app/s/peek"));
        assertEquals("none", next.get("session"), "the ended session is not served: " + next.body());
        assertFalse(held.request.isDone(), "the download still runs");

        held.end();
        assertEquals("none", withSession(id).get(tomcats[1].url("/app/s/peek")).get("session"));
        assertEquals(1, SessionEvents.destroyed(id));
    }

    @Test
    void aWaiterPastLockWaitTimeoutGoesOnAndMerges_bothRequestsChangesSurvive() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "all", "lockWaitTimeout", "500");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?start=1")).get("id");
        long timeouts = count(tomcats[1], Counter.LOCK_TIMEOUTS);

        String gate = gate();
        Future<Browser.Page> holder = pool.submit(
                () -> withSession(id).get(tomcats[0].url("/app/s/hold?gate=" + gate + "&a=1")));
        awaitArrivals(gate, 1);
        assertNotNull(serverOf(id).get(lockKey(id)), "the holder has the session's lock");

        // The holder cannot end before the gate opens, so this request got past the lock without it.
        Browser.Page waiter;
        List<String> log;
        try (Transcoding.Warnings warnings = Transcoding.Warnings.capture("io.msm")) {
            waiter = withSession(id).get(tomcats[1].url("/app/s/set?b=2"));
            log = warnings.messages();
        }
        assertEquals(200, waiter.status());
        assertEquals("2", waiter.get("attr.b"));
        assertFalse(holder.isDone(), "the holder still holds the lock");
        assertEquals(timeouts + 1, count(tomcats[1], Counter.LOCK_TIMEOUTS));
        assertEquals(1, log.stream().filter(l -> l.contains("still locked by another request after lockWaitTimeout=500"
                + " ms") && l.contains(SessionId.masked(id))).count(), "logged once, with the masked id: " + log);

        long merged = count(tomcats[0], Counter.NON_STICKY_STORES_MERGED);
        open(gate);
        assertEquals(200, holder.get(30, TimeUnit.SECONDS).status());
        assertTrue(count(tomcats[0], Counter.NON_STICKY_STORES_MERGED) > merged,
                "the holder found the waiter's store and merged into it");
        for (TomcatNode t : tomcats) {
            Browser.Page after = user.get(t.url("/app/s/get"));
            assertEquals("1", after.get("attr.a"), "the holder's change, on " + t.route());
            assertEquals("2", after.get("attr.b"), "the waiter's change, on " + t.route());
            assertEquals("1", after.get("attr.start"));
        }
        // The release is sent, not awaited: memcached deletes the lock right after the response.
        Await.until("the holder to release its lock", WAIT, () -> serverOf(id).get(lockKey(id)) == null);
    }

    @Test
    void aWaiterTakesTheLockOnceTheHolderReleasesIt_seesItsChange_andTheWaitIsCounted() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "all", "lockWaitTimeout", "60000");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?start=1")).get("id");
        long waits = count(tomcats[1], Counter.LOCK_WAITS);
        long timeouts = count(tomcats[1], Counter.LOCK_TIMEOUTS);

        String gate = gate();
        Future<Browser.Page> holder = pool.submit(
                () -> withSession(id).get(tomcats[0].url("/app/s/hold?gate=" + gate + "&a=1")));
        awaitArrivals(gate, 1);
        Future<Browser.Page> waiter = pool.submit(() -> withSession(id).get(tomcats[1].url("/app/s/set?b=2")));
        Await.until("the waiter to meet the held lock", WAIT, () -> count(tomcats[1], Counter.LOCK_WAITS) == waits + 1);
        assertFalse(waiter.isDone(), "the waiter went past a held lock");

        open(gate);
        assertEquals(200, holder.get(30, TimeUnit.SECONDS).status());
        Browser.Page after = waiter.get(30, TimeUnit.SECONDS);
        assertEquals("1", after.get("attr.a"), "the waiter loaded the session after the holder stored it");
        assertEquals("2", after.get("attr.b"));
        assertEquals(waits + 1, count(tomcats[1], Counter.LOCK_WAITS));
        assertEquals(timeouts, count(tomcats[1], Counter.LOCK_TIMEOUTS));
    }

    @Test
    void aLockingRequestDoesNotJoinTheCopyOfAnUnlockedReader_itMeetsTheLockAnotherTomcatHolds_andWaitsForNoReader()
            throws Exception {
        // Requests whose query says lock=1 lock; the others are readers that load without the lock.
        TomcatNode[] tomcats = cluster("lockingMode", "uriPattern:.*lock=1.*", "lockWaitTimeout", "60000");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?start=1&lock=1")).get("id");
        long waits = count(tomcats[0], Counter.LOCK_WAITS);

        String readerGate = gate();
        Future<Browser.Page> reader = pool.submit(
                () -> withSession(id).get(tomcats[0].url("/app/s/hold?gate=" + readerGate)));
        awaitArrivals(readerGate, 1); // tomcat1's copy in memory, loaded without the lock
        String holderGate = gate();
        Future<Browser.Page> holder = pool.submit(
                () -> withSession(id).get(tomcats[1].url("/app/s/hold?gate=" + holderGate + "&a=1&lock=1")));
        awaitArrivals(holderGate, 1); // tomcat2 holds the lock
        Future<Browser.Page> writer = pool.submit(() -> withSession(id).get(tomcats[0].url("/app/s/set?b=2&lock=1")));

        Await.until("the writer to meet the lock tomcat2 holds", WAIT,
                () -> count(tomcats[0], Counter.LOCK_WAITS) == waits + 1);
        assertFalse(writer.isDone(), "the writer ran while another Tomcat held the lock");
        Future<Browser.Page> laterReader = pool.submit(() -> withSession(id).get(tomcats[0].url("/app/s/get")));
        Await.until("a reader arriving meanwhile to be answered, not held up by the writer's wait", WAIT,
                laterReader::isDone);
        assertEquals("1", laterReader.get().get("attr.start"));
        assertFalse(writer.isDone());
        open(holderGate);
        assertEquals(200, holder.get(30, TimeUnit.SECONDS).status());
        Browser.Page written = writer.get(30, TimeUnit.SECONDS);
        assertEquals("1", written.get("attr.a"), "the writer loaded the session after tomcat2 stored it");
        assertFalse(reader.isDone(), "the writer waited for the reader of its own Tomcat");

        open(readerGate);
        assertEquals(200, reader.get(30, TimeUnit.SECONDS).status());
        Browser.Page after = user.get(tomcats[1].url("/app/s/get"));
        assertEquals("1", after.get("attr.a"));
        assertEquals("2", after.get("attr.b"), "the reader's older copy, ending last, undid nothing");
        assertNoSessionInMemory(tomcats);
    }

    /**
     * A request that does not lock (a download, a long poll) and joins the copy a locking request
     * holds does not keep the lock once that request ends: the user's next locking request, on the
     * other Tomcat, takes it at once and sees the change, and the long request's own change, made
     * after it, is merged at its end without undoing the other Tomcat's.
     */
    @Test
    void aReaderOnTheLockedCopyDoesNotKeepTheLockAfterTheLockingRequestEnds() throws Exception {
        // Requests whose query says lock=1 lock; the others do not.
        TomcatNode[] tomcats = cluster("lockingMode", "uriPattern:.*lock=1.*", "lockWaitTimeout", "60000");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?start=1&form=old&lock=1")).get("id");
        long waits = count(tomcats[1], Counter.LOCK_WAITS);

        Held holder = new Held(tomcats[0], id, "&a=1&lock=1"); // tomcat1 holds the lock, its copy in memory
        Held reader = new Held(tomcats[0], id, "&downloaded=1"); // joins the locked copy
        withSession(id).get(tomcats[0].url("/app/s/set?form=reader")); // another one that does not lock, under it
        holder.end();

        Await.until("the lock to be freed while the reader still runs", WAIT,
                () -> serverOf(id).get(lockKey(id)) == null);
        Browser.Page written = withSession(id).get(tomcats[1].url("/app/s/set?form=new&lock=1"));
        assertEquals("1", written.get("attr.a"), "the locking request's change was stored before the lock was freed");
        assertEquals(waits, count(tomcats[1], Counter.LOCK_WAITS), "tomcat2 met no lock");
        // A locking request of tomcat1 now loads its own copy, under the lock: the reader's is older.
        Browser.Page again = withSession(id).get(tomcats[0].url("/app/s/set?e=5&lock=1"));
        assertEquals("new", again.get("attr.form"), again.body());
        assertFalse(reader.page.isDone(), "the reader still runs");

        reader.end();
        Browser.Page after = user.get(tomcats[1].url("/app/s/get"));
        assertEquals("new", after.get("attr.form"), "the reader's end undid tomcat2's change: " + after.body());
        assertEquals("5", after.get("attr.e"), after.body());
        assertEquals("1", after.get("attr.a"), after.body());
        assertEquals("1", after.get("attr.downloaded"), "the reader's own change is stored: " + after.body());
        assertNoSessionInMemory(tomcats);
        Await.until("no lock left", WAIT, () -> serverOf(id).get(lockKey(id)) == null);
    }

    /**
     * A value a request that does not lock put in the session while the locking request ended, whose
     * change is recorded only after its attribute listeners: the lock stays held until that request
     * ends, since its merge would otherwise apply the value again over another Tomcat's newer one.
     */
    @Test
    void aChangeUnderWayInAReaderKeepsTheLockUntilTheReaderEnds() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "uriPattern:.*lock=1.*", "lockWaitTimeout", "60000");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?start=1&lock=1")).get("id");

        Held holder = new Held(tomcats[0], id, "&a=1&lock=1");
        String listenerGate = gate();
        Future<Browser.Page> setter = pool.submit(() -> withSession(id).get(
                tomcats[0].url("/app/s/set?" + SessionEvents.HELD_IN_LISTENER + "=" + listenerGate)));
        awaitArrivals(listenerGate, 1); // the value is in the session, its change not recorded yet
        holder.end();
        assertNotNull(serverOf(id).get(lockKey(id)), "the lock was freed while a change was under way");

        open(listenerGate);
        assertEquals(200, setter.get(30, TimeUnit.SECONDS).status());
        Await.until("the last request to free the lock", WAIT, () -> serverOf(id).get(lockKey(id)) == null);
        Browser.Page after = user.get(tomcats[1].url("/app/s/get?lock=1"));
        assertEquals("1", after.get("attr.a"), after.body());
        assertEquals(listenerGate, after.get("attr." + SessionEvents.HELD_IN_LISTENER), after.body());
        assertNoSessionInMemory(tomcats);
    }

    /**
     * A locking request of the same Tomcat already waiting when the holder ends takes the lock over
     * in memory, even while a reader still uses the copy: it meets no lock, and no other Tomcat slips
     * in between.
     */
    @Test
    void aLockingRequestWaitingInTheSameTomcatTakesTheLockOver_whileAReaderStillUsesTheCopy() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "uriPattern:.*lock=1.*", "lockWaitTimeout", "60000");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?start=1&lock=1")).get("id");

        Held holder = new Held(tomcats[0], id, "&a=1&lock=1");
        Held reader = new Held(tomcats[0], id, "");
        Future<Browser.Page> next = pool.submit(() -> withSession(id).get(tomcats[0].url("/app/s/set?b=2&lock=1")));
        Await.until("the next locking request to wait for its turn", WAIT, () -> waitingForTheirTurn() == 1);
        long waits = count(tomcats[0], Counter.LOCK_WAITS);
        long acquired = count(tomcats[0], Counter.LOCKS_ACQUIRED);
        long waitsElsewhere = count(tomcats[1], Counter.LOCK_WAITS);
        // Another Tomcat's locking request, sent while the lock is handed over: it must wait for the next one.
        Future<Browser.Page> elsewhere = pool.submit(
                () -> withSession(id).get(tomcats[1].url("/app/s/set?c=3&lock=1")));
        Await.until("tomcat2 to meet the lock", WAIT,
                () -> count(tomcats[1], Counter.LOCK_WAITS) == waitsElsewhere + 1);
        holder.end();
        assertEquals(200, next.get(30, TimeUnit.SECONDS).status());
        assertEquals(waits, count(tomcats[0], Counter.LOCK_WAITS), "the lock was handed over, not taken again");
        assertEquals(acquired, count(tomcats[0], Counter.LOCKS_ACQUIRED), "the lock was handed over, not taken again");
        Browser.Page fromTomcat2 = elsewhere.get(30, TimeUnit.SECONDS);
        assertEquals("1", fromTomcat2.get("attr.a"), fromTomcat2.body());
        assertEquals("2", fromTomcat2.get("attr.b"), "tomcat2 loaded after the request the lock was handed to: "
                + fromTomcat2.body());
        assertFalse(reader.page.isDone(), "the reader still runs");

        reader.end();
        Browser.Page after = user.get(tomcats[1].url("/app/s/get"));
        assertEquals("3", after.get("attr.c"), after.body());
        assertNoSessionInMemory(tomcats);
    }

    /** A request that waits at a gate of its own, after it loaded the session, until the test ends it. */
    private final class Held {
        final String gate = gate();
        final Future<Browser.Page> page;

        /** @param query what the request sets once the gate opens, and lock=1 to lock */
        Held(TomcatNode tomcat, String id, String query) {
            // Held up to a minute: a test may hold it across other requests' waits.
            page = pool.submit(() -> withSession(id).get(
                    tomcat.url("/app/s/hold?gate=" + gate + "&gateSeconds=60" + query)));
            awaitArrivals(gate, 1);
        }

        void end() throws Exception {
            open(gate);
            assertEquals(200, page.get(30, TimeUnit.SECONDS).status());
        }
    }

    /** A pass dispatched by AsyncContext.dispatch() ends like any request: stored, dropped, unlocked. */
    @Test
    void aRequestDispatchedByAsyncContextStoresItsChange_andLeavesNoCopyInMemoryNorLock() {
        TomcatNode[] tomcats = cluster("lockingMode", "all");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?a=1")).get("id");
        assertEquals("2", user.get(tomcats[0].url("/app/s/async?b=2")).get("attr.b"));
        Await.until("the dispatched request's end to drop the session from memory", WAIT,
                () -> tomcats[0].manager(APP).findSessions().length == 0);
        Await.until("its lock released", WAIT, () -> serverOf(id).get(lockKey(id)) == null);
        Browser.Page other = user.get(tomcats[1].url("/app/s/get"));
        assertEquals("1", other.get("attr.a"));
        assertEquals("2", other.get("attr.b"), "the dispatched request's change was stored");
    }

    @Test
    void invalidateReleasesTheLockAtOnce_theSameBrowserGetsANewSessionWithoutWaiting() throws Exception {
        // A request that waited for a lock, the cluster's or this Tomcat's own, would outlast the
        // Browser's 20 s request timeout: the test fails instead of measuring a wait.
        TomcatNode[] tomcats = cluster("lockingMode", "all", "lockWaitTimeout", "60000");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        long waits = count(tomcats[1], Counter.LOCK_WAITS);
        long timeouts = count(tomcats[1], Counter.LOCK_TIMEOUTS);

        // The invalidating request stays inside after invalidate(): the lock must be gone already.
        String gate = gate();
        Future<Browser.Page> invalidating = pool.submit(
                () -> withSession(id).get(tomcats[0].url("/app/s/invalidate?gate=" + gate)));
        awaitArrivals(gate, 1);
        // Sent at invalidate(), not awaited: deleted while the request is still inside.
        Await.until("invalidate() to release the lock before its request ends", Duration.ofSeconds(5),
                () -> serverOf(id).get(lockKey(id)) == null);
        assertFalse(invalidating.isDone());

        // Looks the old id up twice (getSession(false), then getSession(true)), as many webapps do.
        Browser.Page fresh = user.get(tomcats[1].url("/app/s/fresh?fresh=1"));
        assertEquals("false", fresh.get("had"), "the invalidated session is gone for the other Tomcat");
        assertNotNull(fresh.newSessionCookie(), "a new session");
        assertNotEquals(id, fresh.get("id"));
        assertNull(fresh.get("attr.name"), "nothing of the invalidated session");
        assertEquals("1", fresh.get("attr.fresh"));
        assertEquals(waits, count(tomcats[1], Counter.LOCK_WAITS), "it never waited for the old lock");
        assertEquals(timeouts, count(tomcats[1], Counter.LOCK_TIMEOUTS));
        assertFalse(invalidating.isDone());

        open(gate);
        assertEquals(200, invalidating.get(30, TimeUnit.SECONDS).status());
        Browser.Page again = user.get(tomcats[0].url("/app/s/get"));
        assertEquals(fresh.get("id"), again.get("id"));
        assertEquals("1", again.get("attr.fresh"));
    }

    @Test
    void invalidationDeletesEveryKeyOfTheSessionOnBothNodes() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "all");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        MemcachedServer primary = serverOf(id);
        MemcachedServer backup = otherServer(id);
        // tomcat1's background write lands before tomcat2 takes over, so none can follow the deletion.
        Await.until("tomcat1's backup copies written", WAIT,
                () -> backup.get(backupKey(id)) != null && backup.get(backupValidityKey(id)) != null);
        user.get(tomcats[1].url("/app/s/set?step=2"));

        // Invalidated by a request that holds the lock: every kind of key exists at that moment.
        String gate = gate();
        Future<Browser.Page> invalidating = pool.submit(
                () -> withSession(id).get(tomcats[1].url("/app/s/hold?gate=" + gate + "&invalidate=true")));
        awaitArrivals(gate, 1);
        Await.until("data, validity and lock on the session's node; backup copies on the other", WAIT,
                () -> primary.get(key(id)) != null && primary.get(validityKey(id)) != null
                        && primary.get(lockKey(id)) != null && backup.get(backupKey(id)) != null
                        && backup.get(backupValidityKey(id)) != null);
        byte[] lateCopy = backup.get(backupKey(id));
        byte[] lateValidity = backup.get(backupValidityKey(id));
        open(gate);
        assertEquals("invalidated", invalidating.get(30, TimeUnit.SECONDS).body().trim());

        // Only the removal marker stays, on both nodes: a backup copy written late cannot revive it.
        List<String> marker = List.of(PREFIX + "removed:" + id);
        Await.until("every key of the session deleted from both nodes", WAIT,
                () -> keysOf(id, primary).equals(marker) && keysOf(id, backup).equals(marker));
        assertEquals("none", user.get(tomcats[0].url("/app/s/peek")).get("session"));
        assertEquals("none", user.get(tomcats[1].url("/app/s/peek")).get("session"));

        backup.set(backupKey(id), lateCopy, 600);
        backup.set(backupValidityKey(id), lateValidity, 600);
        assertEquals("none", user.get(tomcats[0].url("/app/s/peek")).get("session"),
                "a backup copy that lands after the invalidation does not bring the session back");
        primary.kill();
        assertEquals("none", user.get(tomcats[1].url("/app/s/peek")).get("session"),
                "nor while the session's node is down and the backup node answers alone");
    }

    /**
     * A session read from its backup copy (memcached evicted the primary one) is stored without a
     * CAS token. If another Tomcat invalidated it meanwhile, that store must not bring it back.
     */
    @Test
    void aSessionLoadedFromItsBackupAndInvalidatedElsewhereIsNotWrittenBack() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "none");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        MemcachedServer primary = serverOf(id);
        MemcachedServer backup = otherServer(id);
        Await.until("the backup copy written", WAIT, () -> backup.get(backupKey(id)) != null);
        primary.delete(key(id)); // evicted

        String gate = gate();
        Future<Browser.Page> late = pool.submit(
                () -> withSession(id).get(tomcats[0].url("/app/s/hold?gate=" + gate + "&step=2")));
        awaitArrivals(gate, 1);
        assertEquals("invalidated", withSession(id).get(tomcats[1].url("/app/s/invalidate")).body().trim());
        Await.until("the removal marker on both nodes", WAIT,
                () -> primary.get(PREFIX + "removed:" + id) != null && backup.get(PREFIX + "removed:" + id) != null);
        open(gate);
        assertEquals(200, late.get(30, TimeUnit.SECONDS).status());

        assertEquals("none", user.get(tomcats[0].url("/app/s/peek")).get("session"));
        assertEquals("none", user.get(tomcats[1].url("/app/s/peek")).get("session"),
                "the logged-out session stays gone");
        assertNull(primary.get(key(id)), "nothing of it written back");
    }

    @Test
    void anIdleSessionWhoseNodeRestartedEmptyIsStillDestroyedOnce_fromItsBackupCopy() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "all");
        String id = sessionIdleIn3Seconds(tomcats, new Browser());

        serverOf(id).restart(); // an upgrade or a reboot: nothing in it

        Await.until("the idle session destroyed", Duration.ofSeconds(15), () -> SessionEvents.destroyed(id) >= 1);
        Thread.sleep(2000); // both Tomcats' background runs check again
        assertEquals(1, SessionEvents.destroyed(id), "once in the whole cluster");
    }

    /**
     * The background run claims every session due at once: one whose attribute's valueUnbound throws
     * (Tomcat's expire() does not catch it) must not leave the others claimed and never ended.
     */
    @Test
    void aValueUnboundThatThrowsLetsEveryOtherIdleSessionEndWithItsListeners() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "none");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Browser user = new Browser();
            ids.add(user.get(tomcats[0].url("/app/s/instance?name=trap&class=" + UnbindFails.class.getName()
                    + "&value=" + i)).get("id"));
            assertEquals(200, user.get(tomcats[0].url("/app/s/timeout?s=3")).status());
        }

        Await.until("all five idle sessions destroyed", Duration.ofSeconds(20),
                () -> ids.stream().allMatch(id -> SessionEvents.destroyed(id) >= 1));
        Thread.sleep(2000); // both Tomcats' background runs check again
        for (String id : ids) {
            assertEquals(1, SessionEvents.destroyed(id), "once in the whole cluster");
            assertNull(serverOf(id).get(key(id)), "its keys deleted");
        }
    }

    @Test
    void clusterWideIdleExpiryLeavesNoKeyButTheClaim() throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "all");
        Browser user = new Browser();
        String id = sessionIdleIn3Seconds(tomcats, user);
        MemcachedServer primary = serverOf(id);
        MemcachedServer backup = otherServer(id);

        Await.until("the idle session destroyed", Duration.ofSeconds(15), () -> SessionEvents.destroyed(id) >= 1);
        // The claim key stays on purpose: it is what stops a second Tomcat from firing sessionDestroyed;
        // so does the removal marker, which keeps a late backup copy from reviving the session.
        List<String> markers = List.of(PREFIX + "expired:" + id, PREFIX + "removed:" + id);
        Await.until("data, validity, backup, backup-validity and lock keys deleted", WAIT,
                () -> keysOf(id, primary).equals(markers)
                        && keysOf(id, backup).equals(List.of(PREFIX + "removed:" + id)));
        assertNull(primary.get(lockKey(id)));
        assertEquals(1, SessionEvents.destroyed(id));
        assertEquals("none", user.get(tomcats[0].url("/app/s/peek")).get("session"));
    }

    @ParameterizedTest(name = "remover stores first: {0}")
    @ValueSource(booleans = {true, false})
    void aRemovalOnOneTomcatAndASetOnTheOtherInParallelBothSurviveTheMerge(boolean removerFirst) throws Exception {
        TomcatNode[] tomcats = cluster("lockingMode", "none");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?start=1&x=1")).get("id");

        // Both load the session with x before either changes it; the test picks who stores first.
        String removeGate = gate();
        String setGate = gate();
        Future<Browser.Page> remover = pool.submit(
                () -> withSession(id).get(tomcats[0].url("/app/s/hold?gate=" + removeGate + "&remove=x")));
        Future<Browser.Page> setter = pool.submit(
                () -> withSession(id).get(tomcats[1].url("/app/s/hold?gate=" + setGate + "&b=2")));
        awaitArrivals(removeGate, 1);
        awaitArrivals(setGate, 1);
        TomcatNode second = removerFirst ? tomcats[1] : tomcats[0];
        long merged = count(second, Counter.NON_STICKY_STORES_MERGED);
        open(removerFirst ? removeGate : setGate);
        assertEquals(200, (removerFirst ? remover : setter).get(30, TimeUnit.SECONDS).status());
        open(removerFirst ? setGate : removeGate);
        assertEquals(200, (removerFirst ? setter : remover).get(30, TimeUnit.SECONDS).status());
        assertTrue(count(second, Counter.NON_STICKY_STORES_MERGED) > merged, "the later store merged");

        for (TomcatNode t : tomcats) {
            Browser.Page after = user.get(t.url("/app/s/get"));
            assertNull(after.get("attr.x"), "the removal survived, on " + t.route());
            assertEquals("2", after.get("attr.b"), "the set survived, on " + t.route());
            assertEquals("1", after.get("attr.start"));
        }
    }

    // ---- helpers ----

    @Test
    void aLockingRequestHoldsUpNoOtherSession() throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager("sticky", "false", "lockingMode", "all",
                "lockWaitTimeout", "60000"));
        String held = new Browser().get(tomcat.url("/app/s/set?name=alice")).get("id");
        String neighbour = sessionHashedLike(held, null, tomcat);
        String gate = gate();
        Future<Browser.Page> holder = pool.submit(() -> withSession(held).get(tomcat.url("/app/s/hold?gate=" + gate + "&a=1")));
        awaitArrivals(gate, 1);

        Future<Browser.Page> other = pool.submit(() -> withSession(neighbour).get(tomcat.url("/app/s/set?b=2")));
        Await.until("the other session's locking request answered", WAIT, other::isDone);
        assertFalse(holder.isDone(), "the held request is still at its gate");
        assertEquals(neighbour, other.get().get("id"));
        assertEquals("2", other.get().get("attr.b"));

        open(gate);
        assertEquals("1", holder.get(20, TimeUnit.SECONDS).get("attr.a"));
        assertEquals("1", withSession(held).get(tomcat.url("/app/s/get")).get("attr.a"));
        assertNoSessionInMemory(tomcat);
    }

    @Test
    void aLoadWaitingForAHungNodeHoldsUpNoOtherSession() throws Exception {
        // A third node: the other session's own node and its backup node are both not the hung one
        // (a load asks the backup node too, and would wait for it).
        try (MemcachedServer n3 = MemcachedServer.start()) {
            Map<String, String> attributes = manager("sticky", "false", "operationTimeout", "4000");
            attributes.put("memcachedNodes", n1.node("n1") + "," + n2.node("n2") + "," + n3.node("n3"));
            TomcatNode tomcat = tomcat("tomcat1", attributes);
            String slow = new Browser().get(tomcat.url("/app/s/set?name=alice")).get("id");
            List<String> ids = List.of("n1", "n2", "n3");
            List<MemcachedServer> servers = List.of(n1, n2, n3);
            int at = ids.indexOf(SessionId.parse(slow).nodeId());
            MemcachedServer hung = servers.get(at);
            MemcachedServer backup = servers.get((at + 1) % 3);
            Await.until("the backup copy written", WAIT, () -> backup.get(backupKey(slow)) != null);
            // on the slow session's backup node, whose own backup node is the third one
            String neighbour = sessionHashedLike(slow, ids.get((at + 1) % 3), tomcat);
            hung.pause();
            try {
                Future<Browser.Page> waiting = pool.submit(() -> withSession(slow).get(tomcat.url("/app/s/get")));
                Await.until("a request thread loading from the hung node", WAIT, NonStickyRequestsIT::aThreadIsLoading);
                Browser.Page other = withSession(neighbour).get(tomcat.url("/app/s/get"));
                assertFalse(waiting.isDone(), "the load of the session on the hung node is still waiting");
                assertEquals(neighbour, other.get("id"));
                assertEquals(200, other.status());
                assertEquals("alice", waiting.get(20, TimeUnit.SECONDS).get("attr.name"), "from the backup copy");
            } finally {
                hung.resume();
            }
        }
    }

    /** Some thread of this JVM (a Tomcat request thread) is inside a non-sticky load. */
    private static boolean aThreadIsLoading() {
        return Thread.getAllStackTraces().values().stream().flatMap(Arrays::stream).anyMatch(
                f -> f.getClassName().equals(NonStickySessions.class.getName()) && f.getMethodName().equals("open"));
    }

    /**
     * A new session, on the given node (any when null), whose id a striped lock of 256 stripes, or of
     * any power of two below, would have put on the same stripe as {@code id}.
     */
    private static String sessionHashedLike(String id, String nodeId, TomcatNode tomcat) {
        // With a node given, one in 768 new sessions fits: 20,000 tries leave no chance worth naming.
        Browser browser = new Browser(); // one client: each has a selector thread until collected
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (int i = 0; i < 20_000 && System.nanoTime() < deadline; i++) {
            browser.sessionId(null);
            String candidate = browser.get(tomcat.url("/app/s/set?n=" + i)).get("id");
            if ((candidate.hashCode() & 0xff) == (id.hashCode() & 0xff)
                    && (nodeId == null || nodeId.equals(SessionId.parse(candidate).nodeId()))) {
                return candidate;
            }
        }
        throw new AssertionError("no session id hashed like " + id + " in 20,000 new sessions or 120 s");
    }

    /** A session made on tomcat1, its timeout set to 3 s on tomcat2, once every key of it is on both nodes. */
    private String sessionIdleIn3Seconds(TomcatNode[] tomcats, Browser user) {
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        user.get(tomcats[1].url("/app/s/timeout?s=3"));
        MemcachedServer primary = serverOf(id);
        MemcachedServer backup = otherServer(id);
        Await.until("the session's keys on both nodes", WAIT,
                () -> primary.get(key(id)) != null && primary.get(validityKey(id)) != null
                        && backup.get(backupKey(id)) != null && backup.get(backupValidityKey(id)) != null);
        return id;
    }

    private static void assertNoSessionInMemory(TomcatNode... tomcats) {
        for (TomcatNode t : tomcats) {
            assertEquals(0, t.manager(APP).findSessions().length, "sessions in the memory of " + t.route());
        }
    }

    /** Every key the server holds that belongs to the session, whatever its kind. */
    private static List<String> keysOf(String id, MemcachedServer server) {
        return server.keys().stream().filter(k -> k.endsWith(id)).sorted().collect(Collectors.toList());
    }

    // Key names as NonStickySessions writes them, with the default storageKeyPrefix.

    private static String validityKey(String id) {
        return PREFIX + "validity:" + id;
    }

    private static String backupValidityKey(String id) {
        return PREFIX + "backup-validity:" + id;
    }

    private static String lockKey(String id) {
        return PREFIX + "lock:" + id;
    }
}

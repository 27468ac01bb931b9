package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.msm.core.SessionId;
import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/** What one Tomcat in sticky mode writes to memcached, and when. */
class StickySessionIT extends GatedClusterTest {

    @Test
    void newSessionIsStoredUnderItsIdOnTheNodeItNames_withExpiryFollowingMaxInactiveInterval() {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        Browser user = new Browser();
        Browser.Page page = user.get(tomcat.url("/app/s/set?name=alice"));
        assertEquals(200, page.status());
        String id = page.get("id");
        SessionId sid = SessionId.parse(id);
        assertNotNull(sid, "session id in msm form: " + id);
        assertEquals("tomcat1", sid.jvmRoute());

        awaitStored(id);
        assertNull(otherServer(id).get(key(id)), "the other node must not hold the session");
        // Default timeout 30 min: memcached keeps it that long plus the refresh slack of 60 s.
        assertExpiresIn(serverOf(id), key(id), 1800 + 60);

        user.get(tomcat.url("/app/s/timeout?s=600"));
        Await.until("expiry to follow the new maxInactiveInterval", WAIT,
                () -> serverOf(id).expiresAt(key(id)) != null
                        && Math.abs(serverOf(id).expiresAt(key(id)) - nowSeconds() - 660) <= 3);
    }

    @Test
    void unchangedSessionIsNotRewritten_yetAReadOnlySessionOutlivesItsFirstExpiry() throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager("sessionBackupAsync", "false", "sessionBackupTimeout", "2000"));
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/s/set?name=alice")).get("id");
        user.get(tomcat.url("/app/s/timeout?s=3"));
        awaitStored(id);
        long stored = count(tomcat, Counter.BACKUPS_STORED);
        long firstExpiry = serverOf(id).expiresAt(key(id));

        // Eight reads 0.7 s apart: longer than the 3 s timeout, each read inside it, however long a
        // read takes on a busy machine (a loop bounded by time did fewer reads there).
        for (int i = 0; i < 8; i++) {
            Browser.Page page = user.get(tomcat.url("/app/s/get"));
            assertEquals("alice", page.get("attr.name"));
            Thread.sleep(700);
        }
        assertEquals(stored, count(tomcat, Counter.BACKUPS_STORED), "reads must not rewrite the session");
        assertTrue(count(tomcat, Counter.BACKUPS_TOUCHED) >= 5, "each read pushes the expiry forward");
        // A 3 s timeout has no refresh slack (a tenth of it, whole seconds): its copy expired 3 s after
        // the first store unless the reads' touches moved its expiry on, by more than the timeout.
        Long expiry = serverOf(id).expiresAt(key(id));
        assertNotNull(expiry, "a session only read is still in memcached");
        assertTrue(expiry > firstExpiry + 3, "expiry moved from " + firstExpiry + " to " + expiry);
    }

    @Test
    void aValueChangedInPlaceReachesMemcachedWithoutAFurtherRequest_andABurstOfReadsIsComparedOnce()
            throws Exception {
        TomcatNode tomcat1 = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/append?item=a")).get("id");
        awaitStored(id);
        byte[] first = serverOf(id).get(key(id));

        user.get(tomcat1.url("/app/s/append?item=b")); // list.add on the stored list, no setAttribute
        Await.until("the in-place change stored by the deferred comparison", WAIT,
                () -> !java.util.Arrays.equals(first, serverOf(id).get(key(id))));
        TomcatNode tomcat2 = tomcat("tomcat2", manager());
        assertEquals("[a, b]", user.get(tomcat2.url("/app/s/get")).get("attr.items"),
                "another Tomcat loads the list as changed in place");

        Browser bob = new Browser();
        long stored = count(tomcat1, Counter.BACKUPS_STORED);
        awaitStored(bob.get(tomcat1.url("/app/s/set?name=bob")).get("id"));
        // The backup thread counts its store after memcached answered it: the item can be seen first.
        Await.until("bob's store counted", WAIT, () -> count(tomcat1, Counter.BACKUPS_STORED) > stored);
        long decisions = decisions(tomcat1);
        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            assertEquals("bob", bob.get(tomcat1.url("/app/s/get")).get("attr.name"));
        }
        long burstMillis = (System.nanoTime() - start) / 1_000_000;
        Await.until("the burst compared", WAIT, () -> decisions(tomcat1) > decisions);
        Thread.sleep(1500); // a lower bound, not a wait for an event: later comparisons would show by then
        long compared = decisions(tomcat1) - decisions;
        // A leading comparison, one per 100 ms window of the burst, a trailing one: at most 3 when the
        // burst fits in one window, as it does on an idle machine.
        assertTrue(compared <= burstMillis / 100 + 3, "10 reads in " + burstMillis + " ms compared " + compared
                + " times");
    }

    /**
     * Synchronous backups reuse the stored bytes of attributes that did not change; one changed in
     * place by a request that never read it through the session API is still stored at that
     * request's end, exactly as when every attribute was serialized again.
     */
    @Test
    void aValueChangedInPlaceWithoutBeingReadIsStoredAtTheRequestsEnd_andUnchangedOnesAreNotSerializedAgain() {
        TomcatNode tomcat1 = tomcat("tomcat1", manager("sessionBackupAsync", "false", "sessionBackupTimeout", "2000"));
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/set?name=alice")).get("id");
        user.get(tomcat1.url("/app/s/append?item=a"));
        awaitStored(id);
        long reused = count(tomcat1, Counter.ATTRIBUTES_REUSED);
        assertEquals("alice", user.get(tomcat1.url("/app/s/get")).get("attr.name"));
        assertTrue(count(tomcat1, Counter.ATTRIBUTES_REUSED) >= reused + 2, "a read reuses both attributes' bytes");

        assertEquals(200, user.get(tomcat1.url("/app/s/kept?item=b")).status());
        TomcatNode tomcat2 = tomcat("tomcat2", manager("sessionBackupAsync", "false", "sessionBackupTimeout", "2000"));
        Browser.Page other = user.get(tomcat2.url("/app/s/get"));
        assertEquals("[a, b]", other.get("attr.items"), "memcached holds the change made without getAttribute");
        assertEquals("alice", other.get("attr.name"));
    }

    /**
     * Asynchronous backups: a session changed by request after request is written at most once per
     * 100 ms window, and the burst's last state reaches memcached without a further request.
     */
    @Test
    void aBurstOfChangesIsWrittenOncePerWindow_andItsLastStateReachesMemcached() {
        TomcatNode tomcat1 = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/set?name=start")).get("id");
        awaitStored(id);
        Await.until("the store counted", WAIT, () -> count(tomcat1, Counter.BACKUPS_STORED) >= 1);
        long before = count(tomcat1, Counter.BACKUPS_STORED);
        long start = System.nanoTime();
        for (int i = 0; i < 30; i++) {
            assertEquals(200, user.get(tomcat1.url("/app/s/set?name=burst" + i)).status());
        }
        long burstMillis = (System.nanoTime() - start) / 1_000_000;
        Await.until("the burst's last state in memcached", WAIT, () -> {
            byte[] stored = serverOf(id).get(key(id));
            return stored != null && new String(stored, StandardCharsets.ISO_8859_1).contains("burst29");
        });
        long writes = count(tomcat1, Counter.BACKUPS_STORED) - before;
        // A leading write, one per 100 ms window, a trailing one, and one for a request that ends
        // just as the deferred comparison starts: far fewer than the 30 changes.
        assertTrue(writes <= burstMillis / 100 + 3,
                "30 changes in " + burstMillis + " ms were written " + writes + " times");
    }

    /**
     * Asynchronous backups of a session changed request after request reuse the bytes of the
     * attributes that did not change, as synchronous ones do; a value changed in place meanwhile,
     * without being read through the session API, still reaches memcached.
     */
    @Test
    void aBusySessionReusesItsUnchangedAttributesBytes_yetAValueChangedInPlaceIsStored() throws Exception {
        TomcatNode tomcat1 = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/append?item=a")).get("id");
        awaitStored(id);
        long reused = count(tomcat1, Counter.ATTRIBUTES_REUSED);
        for (int i = 0; i < 20; i++) { // about 400 ms: several comparisons, 100 ms apart
            assertEquals(200, user.get(tomcat1.url("/app/s/set?name=burst" + i)).status());
            if (i == 15) {
                assertEquals(200, user.get(tomcat1.url("/app/s/kept?item=b")).status());
            }
            Thread.sleep(20);
        }
        Await.until("the burst's last state in memcached", WAIT, () -> {
            byte[] stored = serverOf(id).get(key(id));
            return stored != null && new String(stored, StandardCharsets.ISO_8859_1).contains("burst19");
        });
        assertTrue(count(tomcat1, Counter.ATTRIBUTES_REUSED) > reused,
                "the list's bytes were reused while only the name changed");
        TomcatNode tomcat2 = tomcat("tomcat2", manager());
        Browser.Page other = user.get(tomcat2.url("/app/s/get"));
        assertEquals("[a, b]", other.get("attr.items"), "memcached holds the change made without getAttribute");
        assertEquals("burst19", other.get("attr.name"));
    }

    private static long decisions(TomcatNode tomcat) {
        return count(tomcat, Counter.BACKUPS_STORED) + count(tomcat, Counter.BACKUPS_TOUCHED)
                + count(tomcat, Counter.BACKUPS_SKIPPED_UNCHANGED);
    }

    @Test
    void invalidationRemovesTheSessionFromMemcached() {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        user.get(tomcat.url("/app/s/invalidate"));
        Await.until("invalidated session deleted from memcached", WAIT, () -> serverOf(id).get(key(id)) == null);
    }

    @Test
    void expiryRemovesTheSessionFromMemcached() {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        // Tomcat's own expiry path (as on timeout); memcached alone would keep the copy 31 minutes.
        tomcat.manager(APP).expireSession(id);
        Await.until("expired session deleted from memcached", WAIT, () -> serverOf(id).get(key(id)) == null);

        String shortLived = new Browser().get(tomcat.url("/app/s/timeout?s=1")).get("id");
        awaitStored(shortLived);
        Await.until("a session idle past its timeout expired by Tomcat's background task and deleted", WAIT,
                () -> count(tomcat, Counter.DELETES) >= 2 && serverOf(shortLived).get(key(shortLived)) == null);
    }

    @Test
    void requestsMatchingTheIgnorePatternNeitherLoadNorBackUpTheSession() {
        String pattern = ".*\\.(png|css)$";
        TomcatNode tomcat1 = tomcat("tomcat1", manager("requestUriIgnorePattern", pattern));
        TomcatNode tomcat2 = tomcat("tomcat2", manager("requestUriIgnorePattern", pattern));
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        // The backup thread counts its store after memcached answered it: the item can be seen first.
        Await.until("the store counted", WAIT, () -> count(tomcat1, Counter.BACKUPS_STORED) >= 1);
        long backups = count(tomcat1, Counter.BACKUPS_STORED) + count(tomcat1, Counter.BACKUPS_TOUCHED)
                + count(tomcat1, Counter.BACKUPS_SKIPPED_UNCHANGED);

        Browser.Page local = user.get(tomcat1.url("/app/logo.png"));
        assertEquals(id, local.get("id"), "the ignored request still sees its local session");
        assertEquals(backups, count(tomcat1, Counter.BACKUPS_STORED) + count(tomcat1, Counter.BACKUPS_TOUCHED)
                + count(tomcat1, Counter.BACKUPS_SKIPPED_UNCHANGED), "no backup decision for an ignored request");

        Browser.Page remote = user.get(tomcat2.url("/app/logo.png"));
        assertEquals("none", remote.get("session"), "an ignored request does not load the session");
        assertEquals(0, count(tomcat2, Counter.LOADS));
        assertTrue(count(tomcat2, Counter.REQUESTS_IGNORED) >= 1);
        assertEquals("alice", user.get(tomcat2.url("/app/s/get")).get("attr.name"), "a normal request does load it");
    }

    /**
     * The pattern is matched against the path Tomcat serves, not the raw URI: a path parameter
     * ({@code ;x.css}) or an escaped letter ({@code %74}) does not make a page's request look like a
     * static file's, which would keep its session out of memcached.
     */
    @Test
    void theIgnorePatternCannotBeDodgedByPathParametersOrEscapes() {
        TomcatNode tomcat = tomcat("tomcat1", manager("requestUriIgnorePattern", "^(?!.*/s/).*\\.css$"));
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/%73/set;x.css?name=alice")).get("id");
        awaitStored(id);
        assertEquals("alice", user.get(tomcat.url("/app/%73/get;y.css")).get("attr.name"));
        assertEquals(0, count(tomcat, Counter.REQUESTS_IGNORED), "a servlet's request, with or without ;x.css");
    }

    @Test
    void byDefaultTwoWebappsSharingMemcachedNeverSeeEachOthersSessions() {
        TomcatNode tomcat = started(new TomcatNode("tomcat1").webapp("/app", manager()).webapp("/other", manager()));
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/s/set?secret=of-app")).get("id");
        awaitStored(id);

        Browser.Page other = user.get(tomcat.url("/other/s/get"));
        assertNotEquals(id, other.get("id"), "/other must not take over /app's session");
        assertNull(other.get("attr.secret"));
        assertTrue(serverOf(id).keys().stream().anyMatch(k -> k.startsWith("localhost_/app_")));
        assertTrue(serverOf(id).keys().stream().noneMatch(k -> k.equals("localhost_/other_" + id)));
    }

    @Test
    void bytesThatDoNotDecodeAreTreatedAsAMissingSession() {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        byte[][] bad = {
            "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA==".getBytes(StandardCharsets.US_ASCII), // not a frame
            {'m', 's', 9, 0, 1, 0, 0, 0}, // a frame version this msm does not know
            {(byte) 0xAC, (byte) 0xED, 0, 5, 0x73, 0x72}, // a raw Java serialization stream
        };
        java.util.List<String> log;
        try (io.msm.serializers.Transcoding.Warnings warnings = io.msm.serializers.Transcoding.Warnings.capture("io.msm")) {
            for (byte[] bytes : bad) {
                String planted = String.format("DEADBEEF%024d", bytes.length) + "-n1.tomcat1";
                n1.set(key(planted), bytes, 600);
                Browser user = new Browser();
                user.sessionId(planted);
                Browser.Page page = user.get(tomcat.url("/app/s/get"));
                assertEquals(200, page.status());
                assertNotEquals(planted, page.get("id"), "a fresh session replaces the undecodable one");
            }
            log = warnings.messages();
        }
        assertEquals(bad.length, count(tomcat, Counter.UNDECODABLE_SESSIONS));
        // A Tomcat with the wrong transcoder or key refuses every session it reads: not a line per request.
        assertEquals(1, log.stream().filter(l -> l.contains("does not decode") && l.contains("n1")
                && l.contains("at most once a minute")).count(),
                "one WARN a minute for the node's undecodable sessions, naming it: " + log);
        assertTrue(log.stream().noneMatch(l -> l.contains("DEADBEEF")), "session ids are never logged whole: " + log);
    }

    /**
     * A job, an {@code @Async} method or a WebSocket endpoint holding the HttpSession changes it while
     * no request uses it. The background run stores that change: the user's next request may come
     * after this Tomcat is gone.
     */
    @Test
    void aChangeMadeOutsideAnyRequestIsStoredByTheBackgroundRun_andSurvivesTheTomcat() throws Exception {
        TomcatNode tomcat1 = tomcat("tomcat1", manager());
        TomcatNode tomcat2 = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        long stored = count(tomcat1, Counter.BACKUPS_STORED);

        tomcat1.manager(APP).findSession(id).getSession().setAttribute("job", "done");

        Await.until("the change stored without a request", WAIT,
                () -> count(tomcat1, Counter.BACKUPS_STORED) > stored);
        tomcat1.close();
        Browser.Page after = user.get(tomcat2.url("/app/s/get"));
        assertEquals("alice", after.get("attr.name"));
        assertEquals("done", after.get("attr.job"), "the change made outside a request survives the Tomcat");
    }

    /**
     * The same while a request of the session stays open (a stream, a long poll, for hours): its end
     * may come after this Tomcat is gone, so the background run does not wait for it once it has run
     * longer than StickyRequests.LONG_REQUEST_MILLIS.
     */
    @Test
    void aChangeMadeOutsideRequestsWhileALongRequestRunsIsStoredBeforeItsEnd() throws Exception {
        TomcatNode tomcat1 = tomcat("tomcat1", manager());
        TomcatNode tomcat2 = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        String gate = gate();
        java.util.concurrent.Future<Browser.Page> stream = pool.submit(
                () -> withSession(id).get(tomcat1.url("/app/s/hold?gateSeconds=60&gate=" + gate)));
        awaitArrivals(gate, 1);
        long stored = count(tomcat1, Counter.BACKUPS_STORED);

        tomcat1.manager(APP).findSession(id).getSession().setAttribute("job", "done");

        Await.until("the change stored while the request runs", java.time.Duration.ofSeconds(30),
                () -> count(tomcat1, Counter.BACKUPS_STORED) > stored);
        assertFalse(stream.isDone(), "the request still runs");
        assertEquals("done", withSession(id).get(tomcat2.url("/app/s/get")).get("attr.job"),
                "another Tomcat finds the change before the request's end");
        open(gate);
        assertEquals(200, stream.get(30, java.util.concurrent.TimeUnit.SECONDS).status());
    }

    static void assertExpiresIn(MemcachedServer server, String key, long seconds) {
        // memcached's crawler may list an item a moment after a get finds it.
        Await.until("the item listed with its expiry", java.time.Duration.ofSeconds(10),
                () -> server.expiresAt(key) != null);
        long remaining = server.expiresAt(key) - nowSeconds();
        assertTrue(Math.abs(remaining - seconds) <= 3, "expires in " + remaining + " s, expected about " + seconds);
    }

    static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }
}

package io.msm.core;

import static io.msm.core.EngineHarness.setting;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Non-sticky stores of two Tomcats that used one session at the same time, on the in-memory store:
 * the second store finds the first one's copy (CAS) and applies only its own changes to it.
 */
class NonStickyMergeTest {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);

    private EngineHarness tomcat1;
    private EngineHarness tomcat2;

    @BeforeEach
    void start() throws Exception {
        tomcat1 = EngineHarness.start("sticky", "false", "lockingMode", "none");
        tomcat2 = tomcat1.secondTomcat("sticky", "false", "lockingMode", "none");
        tomcat1.engine.nonSticky().store(snapshot(Map.of("user", "alice", "cart", "empty")), new SessionState(),
                setting("user", "cart"));
    }

    @AfterEach
    void stop() {
        tomcat1.close();
        tomcat2.close();
    }

    private SessionSnapshot snapshot(Map<String, Object> attributes) {
        return EngineHarness.snapshot(ID, tomcat1.time.millis(), attributes);
    }

    private Map<String, Object> stored() {
        SessionSnapshot s = tomcat1.engine.nonSticky().open(ID, new SessionState(), false);
        assertNotNull(s, "memcached holds the session");
        return s.content().attributes();
    }


    /** Stores what a request on {@code tomcat} that set one attribute of the copy it loaded leaves. */
    private void storeSetting(EngineHarness tomcat, SessionSnapshot seen, SessionState state, String name, Object value) {
        tomcat.engine.nonSticky().store(snapshot(with(seen.content().attributes(), name, value)), state, setting(name));
    }

    private static Map<String, Object> with(Map<String, Object> base, String name, Object value) {
        Map<String, Object> copy = new HashMap<>(base);
        if (value == null) {
            copy.remove(name);
        } else {
            copy.put(name, value);
        }
        return copy;
    }

    @Test
    void twoTomcatsChangingDifferentAttributesAtOnceBothKeepTheirChange() {
        SessionState state1 = new SessionState();
        SessionState state2 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        SessionSnapshot seen2 = tomcat2.engine.nonSticky().open(ID, state2, false);

        storeSetting(tomcat1, seen1, state1, "cart", "3 items");
        storeSetting(tomcat2, seen2, state2, "theme", "dark");

        assertEquals(Map.of("user", "alice", "cart", "3 items", "theme", "dark"), stored());
        assertEquals(1, tomcat2.count(Statistics.Counter.NON_STICKY_STORES_MERGED));
    }

    /**
     * A store while parallel requests use the copy can take a value a running request has put in
     * the session but not yet recorded as changed (Tomcat tells listeners in between). If that store
     * is a merge, the value is left out; the next store of the same content must write it, not skip
     * it as already stored. CI lost one request's change of forty this way, once.
     */
    @Test
    void aValueLeftOutOfAMergeIsWrittenByTheNextStoreOfTheSameContent() {
        SessionState state1 = new SessionState();
        SessionState state2 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        SessionSnapshot seen2 = tomcat2.engine.nonSticky().open(ID, state2, false);
        storeSetting(tomcat1, seen1, state1, "cart", "3 items");

        Map<String, Object> content = with(with(seen2.content().attributes(), "theme", "dark"), "note", "kept");
        // "note" is in the session, its change not yet recorded
        tomcat2.engine.nonSticky().store(snapshot(content), state2, setting("theme"));
        assertEquals(1, tomcat2.count(Statistics.Counter.NON_STICKY_STORES_MERGED));
        assertNull(stored().get("note"), "the merge applied the recorded changes only");

        tomcat2.engine.nonSticky().store(snapshot(content), state2, setting("theme", "note"));
        assertEquals(Map.of("user", "alice", "cart", "3 items", "theme", "dark", "note", "kept"), stored());
    }

    /**
     * A request that starts just before its session's timeout ends and runs longer than what is left
     * (a download): idle is counted from its start, as Tomcat's own managers count it. Before, the other
     * Tomcat's expiry check claimed it by the record of the request before, and its user was logged
     * out while active.
     */
    @Test
    void aLongRequestThatStartedBeforeTheTimeoutKeepsItsSessionFromTheOtherTomcatsExpiryCheck() {
        tomcat1.time.advance(1_700_000); // 28 min 20 s of a 30 min timeout
        SessionState downloading = new SessionState();
        assertNotNull(tomcat2.engine.nonSticky().open(ID, downloading, false));

        tomcat1.time.advance(200_000); // past the timeout and its grace, counted from the request before

        assertEquals(java.util.List.of(), ids(tomcat1.engine.nonSticky().claimExpired()),
                "in use: not handed over for sessionDestroyed");
        tomcat2.engine.nonSticky().release(downloading);
    }

    /**
     * The same request running 10 minutes past the end of the timeout counted from the request before:
     * the copies in memcached must outlive it too. Its end finds nothing to write; the next request,
     * on another Tomcat, finds the session.
     */
    @Test
    void aLongRequestThatStartedBeforeTheTimeoutFindsItsSessionStillStoredWhenItEnds() {
        tomcat1.time.advance(1_700_000);
        long start = tomcat1.time.millis();
        SessionState downloading = new SessionState();
        SessionSnapshot seen = tomcat2.engine.nonSticky().open(ID, downloading, false);
        assertNotNull(seen);

        tomcat1.time.advance(600_000);
        tomcat2.engine.nonSticky().store(EngineHarness.snapshot(ID, start, seen.content().attributes()), downloading,
                new SessionChanges());
        tomcat2.engine.nonSticky().release(downloading);

        assertNotNull(tomcat1.engine.nonSticky().open(ID, new SessionState(), false), "still stored");
    }

    /**
     * The load's early write touches the copies with the timeout it loaded; when the same request
     * raises the timeout, its store's sets may land first. The new timeout must win.
     */
    @Test
    void aTimeoutRaisedByTheRequestWinsOverTheTouchItsLoadQueued() {
        tomcat1.time.advance(120_000); // the copies' refresh is due: the load's write touches them
        SessionState state = new SessionState();
        tomcat2.backups.hold();
        SessionSnapshot seen = tomcat2.engine.nonSticky().open(ID, state, false);
        SessionChanges longer = new SessionChanges();
        longer.maxInactiveChanged();
        SessionSnapshot raised = new SessionSnapshot(ID, seen.creationTime(), tomcat1.time.millis(), 7200, null,
                seen.content());
        // While the load's write runs, just before its touch of n1's copy: the request's store.
        tomcat2.store.atOperation("n1", 2, () -> tomcat2.engine.nonSticky().store(raised, state, longer));
        tomcat2.backups.release();
        tomcat2.engine.nonSticky().release(state);

        tomcat1.time.advance(2_700_000); // 45 min: past the old timeout's copies, within the new one

        assertNotNull(tomcat1.engine.nonSticky().open(ID, new SessionState(), false), "the copies live by 7200 s");
    }

    /**
     * One Tomcat shortens the timeout while the other changes an attribute: the merged copy holds the
     * short timeout, and so must the record the merging Tomcat writes, and its expiry check. Before, it
     * wrote the timeout it had loaded, and its expiry check waited 30 minutes for a session that ended
     * after one.
     */
    @Test
    void aTimeoutShortenedOnOneTomcatHoldsInTheRecordAndExpiryOfTheOtherTomcatsMerge() {
        timeoutChangedOnTomcat1WhileTomcat2MergesATheme(60);

        tomcat1.time.advance(70_000); // 60 s and the record's grace of 6 s

        assertEquals(java.util.List.of(ID), ids(tomcat2.engine.nonSticky().claimExpired()),
                "the merging Tomcat hands it over for sessionDestroyed");
    }

    /**
     * The other way: one Tomcat raises the timeout while the other merges a change. The merged copy on
     * the session's node holds the long timeout, and must live as long in memcached. Before, the merge
     * wrote it with the expiry of the timeout it had loaded, and the copy vanished after 30 minutes.
     */
    @Test
    void aTimeoutRaisedOnOneTomcatKeepsTheMergedCopyOfTheOtherTomcatAliveThatLong() {
        timeoutChangedOnTomcat1WhileTomcat2MergesATheme(7200);

        tomcat1.time.advance(2400_000); // 40 minutes: past 1800 s, far within 7200 s

        String dataKey = new NonStickyKeys(new SessionNames(EngineHarness.PREFIX, null), java.util.List.of(
                new MemcachedNode("n1", "127.0.0.1", 1, false), new MemcachedNode("n2", "127.0.0.1", 2, false))).data(ID);
        assertNotNull(tomcat1.store.peek("n1", dataKey), "the merged copy on the session's node");
        assertEquals("dark", stored().get("theme"));
    }

    /** Both load the session; tomcat1 stores a new timeout, then tomcat2 its theme, merged into that copy. */
    private void timeoutChangedOnTomcat1WhileTomcat2MergesATheme(int seconds) {
        SessionState state1 = new SessionState();
        SessionState state2 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        SessionSnapshot seen2 = tomcat2.engine.nonSticky().open(ID, state2, false);
        SessionChanges timeout = new SessionChanges();
        timeout.maxInactiveChanged();
        tomcat1.engine.nonSticky().store(new SessionSnapshot(ID, seen1.creationTime(), tomcat1.time.millis(), seconds,
                null, seen1.content()), state1, timeout);
        storeSetting(tomcat2, seen2, state2, "theme", "dark");
        assertEquals(1, tomcat2.count(Statistics.Counter.NON_STICKY_STORES_MERGED));
    }

    private static java.util.List<SessionId> ids(java.util.List<SessionSnapshot> sessions) {
        java.util.List<SessionId> ids = new java.util.ArrayList<>();
        sessions.forEach(s -> ids.add(s.id()));
        return ids;
    }

    @Test
    void anAttributeRemovedOnOneTomcatStaysRemovedWhenTheOtherStoresItsOwnChange() {
        SessionState state1 = new SessionState();
        SessionState state2 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        SessionSnapshot seen2 = tomcat2.engine.nonSticky().open(ID, state2, false);

        SessionChanges removal = new SessionChanges();
        removal.attributeRemoved("cart");
        tomcat1.engine.nonSticky().store(snapshot(with(seen1.content().attributes(), "cart", null)), state1, removal);
        // Tomcat 2 still holds the cart it loaded; only its own change is applied to the newer copy.
        storeSetting(tomcat2, seen2, state2, "theme", "dark");

        assertEquals(Map.of("user", "alice", "theme", "dark"), stored());
    }

    @Test
    void aSessionInvalidatedOnAnotherTomcatWhileARequestUsedItIsNotStoredAgain() {
        SessionState state1 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        tomcat2.engine.nonSticky().removed(ID, tomcat2Loaded(), 1800);

        storeSetting(tomcat1, seen1, state1, "cart", "3 items");

        assertNull(tomcat1.store.peek("n1", EngineHarness.PREFIX + ID), "the logged-out session stays deleted");
        assertNull(tomcat1.store.peek("n2", EngineHarness.PREFIX + "backup:" + ID), "and so does its backup copy");
        assertNull(tomcat1.engine.nonSticky().open(ID, new SessionState(), false));
    }

    private SessionState tomcat2Loaded() {
        SessionState state = new SessionState();
        assertNotNull(tomcat2.engine.nonSticky().open(ID, state, false));
        return state;
    }

    /**
     * A session read from its backup copy has no CAS token. A store while parallel requests still
     * use it (storeShared) writes it; another Tomcat then stores its change with a token; the last
     * request's store must compare with what is there, not set over it blindly as before such stores.
     */
    @Test
    void afterAStoreWhileRequestsRunASessionWithoutTokenIsComparedNotSetOver() {
        tomcat1.store.forget("n1"); // read from the backup copy: no token
        SessionState state1 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        SessionChanges changes1 = setting("cart"); // the session's, which its later requests add to
        Map<String, Object> mine = with(seen1.content().attributes(), "cart", "3 items");
        assertEquals(true, tomcat1.engine.nonSticky().storeShared(snapshot(mine), state1, changes1.copy()));

        SessionState state2 = tomcat2Loaded();
        tomcat2.engine.nonSticky().store(snapshot(with(stored(), "theme", "dark")), state2, setting("theme"));

        changes1.attributeSet("note");
        tomcat1.engine.nonSticky().store(snapshot(with(mine, "note", "x")), state1, changes1);

        assertEquals(Map.of("user", "alice", "cart", "3 items", "theme", "dark", "note", "x"), stored());
    }

    /**
     * A request here changed the form while a download of the same session ran, and its end stored
     * the copy they share; another Tomcat then changed the form again. The download's end, last here,
     * must not write this Tomcat's older form back over it: the later change wins, as the README says.
     */
    @Test
    void aChangeAnEarlierStoreWroteIsNotWrittenAgainOverAnotherTomcatsLaterChangeOfIt() {
        SessionState state1 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        SessionChanges changes1 = setting("form");
        Map<String, Object> mine = with(seen1.content().attributes(), "form", "draft");
        assertEquals(true, tomcat1.engine.nonSticky().storeShared(snapshot(mine), state1, changes1.copy()));

        SessionState state2 = new SessionState();
        SessionSnapshot seen2 = tomcat2.engine.nonSticky().open(ID, state2, false);
        assertEquals("draft", seen2.content().attributes().get("form"), "the other Tomcat reads the stored change");
        storeSetting(tomcat2, seen2, state2, "form", "final");

        changes1.attributeSet("note"); // made by the download after the shared store: still applied
        tomcat1.engine.nonSticky().store(snapshot(with(mine, "note", "x")), state1, changes1);

        assertEquals(Map.of("user", "alice", "cart", "empty", "form", "final", "note", "x"), stored());
    }

    /**
     * A copy that a long request kept here records an access older than the timeout: written, it
     * would end the session that the other Tomcat's requests kept alive meanwhile. The record stays
     * as they wrote it, and the request's change is stored all the same.
     */
    @Test
    void aStoreOfACopyOlderThanTheTimeoutDoesNotRecordAnExpiredAccessOverAFresherOne() {
        long loadedAt = tomcat1.time.millis();
        SessionState state1 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        for (int i = 1; i <= 8; i++) { // 40 minutes of use on tomcat2, past the 30-minute timeout
            tomcat1.time.advance(5 * 60_000);
            assertNotNull(tomcat2.engine.nonSticky().open(ID, new SessionState(), false), "alive at step " + i);
        }

        // Its last access here: 90 s after its load (a long poll joined it), more than the record's lag.
        tomcat1.engine.nonSticky().store(EngineHarness.snapshot(ID, loadedAt + 90_000,
                with(seen1.content().attributes(), "upload", "done")), state1, setting("upload"));

        assertEquals(Map.of("user", "alice", "cart", "empty", "upload", "done"), stored(),
                "alive for the other Tomcat, with the change");
    }

    /**
     * Read from its backup copy while its node restarted empty: the load restores the node's copy and
     * keeps that copy's token, so another Tomcat's store made meanwhile is merged with, not set over.
     */
    @Test
    void aSessionReadFromItsBackupCopyKeepsAnotherTomcatsStoreMadeMeanwhile() {
        tomcat1.store.forget("n1");
        SessionState state1 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        assertEquals(1, tomcat1.count(Statistics.Counter.PRIMARY_COPIES_REBUILT), "read from the backup copy");

        SessionState state2 = new SessionState();
        SessionSnapshot seen2 = tomcat2.engine.nonSticky().open(ID, state2, false);
        storeSetting(tomcat2, seen2, state2, "theme", "dark");
        storeSetting(tomcat1, seen1, state1, "cart", "3 items");

        assertEquals(Map.of("user", "alice", "cart", "3 items", "theme", "dark"), stored());
    }

    /**
     * As above, but this Tomcat's restore finds the other's copy there and its read of that copy
     * fails: the store still reads and merges, once the node answers again, rather than set the
     * backup's older content over the other Tomcat's change.
     */
    @Test
    void aRestoreThatLostToAnotherTomcatAndThenFailedStillMergesItsStore() {
        tomcat1.store.forget("n1");
        // tomcat1's fourth operation on n1 is the restore's add: the other Tomcat restores and stores first,
        // and the read that follows the refused add fails.
        tomcat1.store.atOperation("n1", 4, () -> {
            SessionState state2 = new SessionState();
            SessionSnapshot seen2 = tomcat2.engine.nonSticky().open(ID, state2, false);
            storeSetting(tomcat2, seen2, state2, "theme", "dark");
            tomcat1.store.atNextOperation("n1", () -> tomcat1.store.failNext("n1", 1));
        });
        SessionState state1 = new SessionState();
        SessionSnapshot seen1 = tomcat1.engine.nonSticky().open(ID, state1, false);
        assertNotNull(seen1, "from the backup copy");
        tomcat1.time.advance(SessionEngine.PROBE_INTERVAL_MILLIS + 1);
        tomcat1.checkNodes(); // n1 answers tomcat1 again

        storeSetting(tomcat1, seen1, state1, "cart", "3 items");

        assertEquals(Map.of("user", "alice", "cart", "3 items", "theme", "dark"), stored());
    }

    /**
     * A logout on another Tomcat between a load's read of the backup copy and its restoring of the
     * node's copy: the copy restored after the logout's delete must not bring the session back.
     */
    @Test
    void aLogoutWhileALoadRestoresTheNodesCopyStaysALogout() {
        tomcat1.store.forget("n1");
        boolean[] loggedOut = {false};
        // tomcat1's fourth operation on n1 is the rebuild's add: after its read (the copy and its record,
        // two here) and its look for a marker.
        tomcat1.store.atOperation("n1", 4, () -> {
            SessionState elsewhere = new SessionState();
            assertNotNull(tomcat2.engine.nonSticky().open(ID, elsewhere, false));
            tomcat2.engine.nonSticky().removed(ID, elsewhere, 1800);
            loggedOut[0] = true;
        });

        SessionSnapshot loading = tomcat1.engine.nonSticky().open(ID, new SessionState(), false);

        assertEquals(true, loggedOut[0], "the logout ran during the load");
        assertNull(loading, "the load that lost the race sees the logout");
        assertNull(tomcat1.store.peek("n1", EngineHarness.PREFIX + ID), "no copy on the node");
        assertNull(tomcat2.engine.nonSticky().open(ID, new SessionState(), false), "logged out everywhere");
    }

    /**
     * A session without a timeout, served by one Tomcat and logged out on another: the first stops
     * watching it at its next look, instead of keeping the entry until the webapp stops; one that
     * lives on stays watched.
     */
    @Test
    void aSessionWithoutTimeoutLoggedOutElsewhereIsNoLongerWatched() {
        SessionId never = SessionId.of("0123456789ABCDEF0123456789ABCDEF", "n1", null);
        SessionId kept = SessionId.of("FEDCBA9876543210FEDCBA9876543210", "n1", null);
        for (SessionId id : new SessionId[] {never, kept}) {
            tomcat1.engine.nonSticky().store(new SessionSnapshot(id, tomcat1.time.millis(), tomcat1.time.millis(), -1,
                    null, new SessionContent(Map.of("user", "bob"), null)), new SessionState(), setting("user"));
        }
        assertEquals(3, watched(tomcat1), "these two and the session of every test");
        SessionState elsewhere = new SessionState();
        assertNotNull(tomcat2.engine.nonSticky().open(never, elsewhere, false));
        tomcat2.engine.nonSticky().removed(never, elsewhere, -1);

        // The session of every test ends meanwhile: its copies expire in memcached, so it is not claimed either.
        tomcat1.time.advance(ExpiryWatch.NEVER_EXPIRING_RECHECK_MILLIS + 1);
        assertEquals(java.util.List.of(), ids(tomcat1.engine.nonSticky().claimExpired()));

        assertEquals(1, watched(tomcat1), "the session without timeout that lives on is watched still");
    }

    private static int watched(EngineHarness tomcat) {
        return tomcat.engine.heldEntries().get("WatchedForExpiry");
    }

    @Test
    void aStoreWritesTheBackupCopyOnTheNextNode() {
        assertNotNull(tomcat1.store.peek("n2", EngineHarness.PREFIX + "backup:" + ID));
        tomcat1.store.forget("n1"); // the session's node restarted empty

        assertEquals(Map.of("user", "alice", "cart", "empty"), stored(), "read from the backup copy");
        assertNotNull(tomcat1.store.peek("n1", EngineHarness.PREFIX + ID), "and restored on its node");
        assertEquals(1, tomcat1.count(Statistics.Counter.PRIMARY_COPIES_REBUILT));
    }
}

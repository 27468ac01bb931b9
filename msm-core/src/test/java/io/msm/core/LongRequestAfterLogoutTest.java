package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * A request that outlives its session's timeout (an upload of an hour) ends after the session was
 * logged out elsewhere, or ended by the cluster's idle expiry, so long ago that the marker of that
 * removal expired too: its store must not bring the session back.
 */
class LongRequestAfterLogoutTest extends TwoNonStickyTomcats {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
    private static final int TIMEOUT = 1800;

    @Test
    void anUploadThatEndsAfterTheLogoutsMarkerExpiredDoesNotBringTheSessionBack() {
        store(a.engine.nonSticky(), ID, new SessionState(), "1");
        long uploadStart = a.time.millis();
        SessionState upload = new SessionState();
        assertNotNull(a.engine.nonSticky().open(ID, upload, false), "the upload's request loads the session");

        b.engine.nonSticky().removed(ID, new SessionState(), TIMEOUT); // the user logs out in another tab
        a.time.advance((TIMEOUT + 2 * Expiry.GRACE_SECONDS + 60) * 1000L); // past any marker of that logout

        a.engine.nonSticky().store(EngineHarness.snapshot(ID, uploadStart, Map.of("step", "uploaded")), upload,
                EngineHarness.setting("step"));
        assertNull(b.engine.nonSticky().open(ID, new SessionState(), false), "logged out stays logged out");
        assertNull(a.engine.nonSticky().open(ID, new SessionState(), false));
    }

    /** A node that came back empty during the long request took the copy: the request's state is the newest. */
    @Test
    void anUploadThatEndsAfterItsNodeCameBackEmptyWritesTheSessionBack() {
        store(a.engine.nonSticky(), ID, new SessionState(), "1");
        long uploadStart = a.time.millis();
        SessionState upload = new SessionState();
        assertNotNull(a.engine.nonSticky().open(ID, upload, false));
        a.checkNodes(); // the health check's marker is on the node
        a.time.advance((TIMEOUT + 2 * Expiry.GRACE_SECONDS + 60) * 1000L);
        a.store.forget("n1"); // restarted empty
        a.checkNodes();
        assertEquals(1, a.count(Statistics.Counter.NODES_FOUND_EMPTY));

        a.engine.nonSticky().store(EngineHarness.snapshot(ID, uploadStart, Map.of("step", "uploaded")), upload,
                EngineHarness.setting("step"));
        SessionSnapshot after = b.engine.nonSticky().open(ID, new SessionState(), false);
        assertNotNull(after, "the session lives on");
        assertEquals("uploaded", after.content().attributes().get("step"));
    }

    /** Within its timeout a request's store still restores a copy its node lost (restarted empty, evicted). */
    @Test
    void aRequestWithinItsTimeoutStillRestoresACopyTheNodeLost() {
        store(a.engine.nonSticky(), ID, new SessionState(), "1");
        long start = a.time.millis();
        SessionState request = new SessionState();
        assertNotNull(a.engine.nonSticky().open(ID, request, false));
        a.store.forget("n1"); // restarted empty
        a.time.advance(60_000);

        a.engine.nonSticky().store(EngineHarness.snapshot(ID, start, Map.of("step", "2")), request,
                EngineHarness.setting("step"));
        assertNotNull(b.engine.nonSticky().open(ID, new SessionState(), false));
    }
}

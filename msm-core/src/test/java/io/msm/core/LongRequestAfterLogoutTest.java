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
    /** Past the timeout, its grace and any marker of a removal made when the request began. */
    private static final long PAST_ANY_MARKER_MILLIS = (TIMEOUT + 2 * Expiry.GRACE_SECONDS + 60) * 1000L;

    /** A request on Tomcat a that loaded the stored session and still runs. */
    private final class Running {
        final long start = a.time.millis();
        final SessionState state = new SessionState();

        Running() {
            assertNotNull(a.engine.nonSticky().open(ID, state, false), "the request loads the session");
        }

        /** Its end: it set "step", and stores what it began with. */
        void endsSetting(String step) {
            a.engine.nonSticky().store(EngineHarness.snapshot(ID, start, Map.of("step", step)), state,
                    EngineHarness.setting("step"));
        }
    }

    private Running storedAndLoaded() {
        store(a.engine.nonSticky(), ID, new SessionState(), "1");
        return new Running();
    }

    @Test
    void anUploadThatEndsAfterTheLogoutsMarkerExpiredDoesNotBringTheSessionBack() {
        Running upload = storedAndLoaded();

        b.engine.nonSticky().removed(ID, new SessionState(), TIMEOUT); // the user logs out in another tab
        a.time.advance(PAST_ANY_MARKER_MILLIS);

        upload.endsSetting("uploaded");
        assertNull(b.engine.nonSticky().open(ID, new SessionState(), false), "logged out stays logged out");
        assertNull(a.engine.nonSticky().open(ID, new SessionState(), false));
    }

    /** A node that came back empty during the long request took the copy: the request's state is the newest. */
    @Test
    void anUploadThatEndsAfterItsNodeCameBackEmptyWritesTheSessionBack() {
        Running upload = storedAndLoaded();
        a.checkNodes(); // the health check's marker is on the node
        a.time.advance(PAST_ANY_MARKER_MILLIS);
        a.store.forget("n1"); // restarted empty
        a.checkNodes();
        assertEquals(1, a.count(Statistics.Counter.NODES_FOUND_EMPTY));

        upload.endsSetting("uploaded");
        SessionSnapshot after = b.engine.nonSticky().open(ID, new SessionState(), false);
        assertNotNull(after, "the session lives on");
        assertEquals("uploaded", after.content().attributes().get("step"));
    }

    /** Within its timeout a request's store still restores a copy its node lost (restarted empty, evicted). */
    @Test
    void aRequestWithinItsTimeoutStillRestoresACopyTheNodeLost() {
        Running request = storedAndLoaded();
        a.store.forget("n1"); // restarted empty
        a.time.advance(60_000);

        request.endsSetting("2");
        assertNotNull(b.engine.nonSticky().open(ID, new SessionState(), false));
    }
}

package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * A non-sticky session only read for a while after its last change, then left idle: the listeners
 * of its sessionDestroyed see its last access (an audit log's "last seen"), which the validity
 * record holds, not its last change's, which the copy holds.
 */
class ClusterExpiryLastAccessTest extends TwoNonStickyTomcats {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);

    @Test
    void sessionDestroyedSeesTheLastReadNotTheLastChange() {
        store(a.engine.nonSticky(), ID, new SessionState(), "1");
        a.time.advance(10 * 60_000L);
        long lastRead = a.time.millis();
        SessionState read = new SessionState();
        assertNotNull(b.engine.nonSticky().open(ID, read, false), "a read ten minutes later, on the other Tomcat");
        b.engine.nonSticky().store(EngineHarness.snapshot(ID, lastRead, Map.of("step", "1")), read,
                new SessionChanges());

        a.time.advance((1800 + 61) * 1000L); // idle past its timeout and grace since that read
        List<SessionSnapshot> claimed = a.engine.nonSticky().claimExpired();
        assertEquals(1, claimed.size());
        assertEquals(lastRead, claimed.get(0).lastAccessedTime());
    }
}

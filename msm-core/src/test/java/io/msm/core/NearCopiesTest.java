package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The orders of one Tomcat's requests around a kept non-sticky session, on the in-memory store: a
 * load in the window while the previous request stores must not leave the kept copy wrong.
 */
class NearCopiesTest {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);

    private EngineHarness tomcat;

    @BeforeEach
    void start() throws Exception {
        tomcat = EngineHarness.start("sticky", "false", "lockingMode", "none");
        SessionChanges created = new SessionChanges();
        created.attributeSet("x");
        tomcat.engine.nonSticky().store(snapshot("0"), new SessionState(), created);
    }

    @AfterEach
    void stop() {
        tomcat.close();
    }

    private SessionSnapshot snapshot(String x) {
        return EngineHarness.snapshot(ID, tomcat.time.millis(), Map.of("x", x));
    }

    @Test
    void aRequestThatChangedNothingDoesNotPutItsOlderObjectsOnANewerCopy() {
        SessionState a = new SessionState();
        SessionState b = new SessionState();
        tomcat.engine.nonSticky().open(ID, a, false);
        // B loads while A still has the session: A's store has not reached memcached yet.
        SessionSnapshot seenByB = tomcat.engine.nonSticky().open(ID, b, false);

        SessionChanges setX = new SessionChanges();
        setX.attributeSet("x");
        tomcat.engine.nonSticky().store(snapshot("1"), a, setX);
        tomcat.engine.nonSticky().store(EngineHarness.snapshot(ID, tomcat.time.millis(), seenByB.content().attributes()),
                b, new SessionChanges());

        SessionSnapshot next = tomcat.engine.nonSticky().open(ID, new SessionState(), false);
        assertEquals("1", next.content().attributes().get("x"), "the stored change, not B's older objects");
        // A took the copy the first store kept; B decoded its own; the next load took A's stored copy.
        assertEquals(2, tomcat.count(Statistics.Counter.NEAR_COPIES_USED));
    }

    @Test
    void aCopyIsLentToOneRequestAtATime() {
        SessionState a = new SessionState();
        SessionState b = new SessionState();
        SessionSnapshot first = tomcat.engine.nonSticky().open(ID, a, false);
        tomcat.engine.nonSticky().store(EngineHarness.snapshot(ID, tomcat.time.millis(), first.content().attributes()),
                a, new SessionChanges());

        SessionSnapshot lent = tomcat.engine.nonSticky().open(ID, a, false);
        SessionSnapshot decoded = tomcat.engine.nonSticky().open(ID, b, false);

        assertEquals(2, tomcat.count(Statistics.Counter.NEAR_COPIES_USED), "the first two loads, not the third");
        assertEquals(lent.content().attributes(), decoded.content().attributes());
        org.junit.jupiter.api.Assertions.assertNotSame(lent.content().attributes().get("x"),
                decoded.content().attributes().get("x"), "the second request decodes objects of its own");
    }
}

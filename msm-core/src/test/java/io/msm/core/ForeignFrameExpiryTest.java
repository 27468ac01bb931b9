package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Non-sticky expiry in a cluster whose Tomcats write with different transcoders (a switch under way):
 * a Tomcat that cannot read a session's copy does not claim and delete it when it expires, since its
 * listeners would never hear of it; a Tomcat that reads it expires it. On the in-memory store and
 * fake time.
 */
class ForeignFrameExpiryTest {
    private static final SessionId ID = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
    private static final String DATA = EngineHarness.PREFIX + ID;
    private static final String CLAIM = EngineHarness.PREFIX + "expired:" + ID;

    private EngineHarness t;

    @BeforeEach
    void start() throws Exception {
        t = EngineHarness.start("sticky", "false");
    }

    @AfterEach
    void stop() {
        t.close();
    }

    @Test
    void anExpiredSessionOfATranscoderThisTomcatDoesNotReadIsLeftToATomcatThatReadsIt() {
        storeAlice();
        // Another Tomcat, on another transcoder, wrote the session last.
        byte[] foreign = new SessionFrame(99, t.time.millis(), t.time.millis(), 1800, null,
                "written by transcoder 99".getBytes(StandardCharsets.UTF_8)).encode();
        t.store.put("n1", DATA, foreign);

        assertExpiredCopyLeftAsItIs();
        assertNull(t.store.peek("n1", CLAIM), "the claim is given back to a Tomcat that reads it");
        assertEquals(0, t.count(Statistics.Counter.UNDECODABLE_SESSIONS), "not garbage: nothing to warn about");
    }

    /** Another msm release's frame (a rolling upgrade): not deleted as garbage, for the same reason. */
    @Test
    void anExpiredSessionOfAnotherMsmReleaseIsLeftToATomcatThatReadsIt() {
        storeAlice();
        byte[] ofAnotherRelease = t.store.peek("n1", DATA).clone();
        ofAnotherRelease[2] = (byte) (SessionFrame.VERSION + 1);
        t.store.put("n1", DATA, ofAnotherRelease);

        assertExpiredCopyLeftAsItIs();
        assertNull(t.store.peek("n1", CLAIM), "the claim is given back");
    }

    private void storeAlice() {
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("user");
        t.engine.nonSticky().store(EngineHarness.snapshot(ID, t.time.millis(), Map.of("user", "alice")),
                new SessionState(), changes);
    }

    /** Past the timeout and its grace, this Tomcat claims nothing and leaves the copy. */
    private void assertExpiredCopyLeftAsItIs() {
        t.time.advance((1800 + 60) * 1000L + 1);
        assertEquals(List.of(), t.engine.nonSticky().claimExpired());
        assertNotNull(t.store.peek("n1", DATA), "not deleted: its listeners have not heard of it");
    }
}

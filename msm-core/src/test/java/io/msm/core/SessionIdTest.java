package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The session id carries its node and route; reading them back must be exact. */
class SessionIdTest {
    // Tomcat's default id: 16 random bytes as 32 upper-case hex digits.
    private static final String RANDOM = "0A1B2C3D4E5F60718293A4B5C6D7E8F9";

    @Test
    void parseAndFormatRoundTripWithRoute() {
        String id = RANDOM + "-n2.tomcat1";

        SessionId sid = SessionId.parse(id);

        assertNotNull(sid);
        assertAll(
                () -> assertEquals(RANDOM, sid.random()),
                () -> assertEquals("n2", sid.nodeId()),
                () -> assertEquals("tomcat1", sid.jvmRoute()),
                () -> assertEquals(id, sid.toString()));
    }

    @Test
    void idsClientsMadeUpDoNotTakeThePlaceOfTheRoutesAndNodesMsmGives() {
        for (int i = 0; i < 2000; i++) {
            SessionId.parse(RANDOM + "-x" + i + ".made-up-" + i); // one request each
        }
        SessionId one = SessionId.of(RANDOM, "n7", "route-added-later");
        SessionId two = SessionId.of(RANDOM.replace('A', 'B'), "n7", "route-added-later");
        org.junit.jupiter.api.Assertions.assertSame(one.jvmRoute(), two.jvmRoute(), "one string for every id");
        org.junit.jupiter.api.Assertions.assertSame(one.nodeId(), SessionId.parse(two.toString()).nodeId(),
                "and for ids parsed once msm made one");
    }

    @Test
    void routeMayContainDash() {
        SessionId sid = SessionId.parse(RANDOM + "-n1.tomcat-1");

        assertNotNull(sid);
        assertEquals(RANDOM, sid.random());
        assertEquals("n1", sid.nodeId());
        assertEquals("tomcat-1", sid.jvmRoute());
        assertEquals(RANDOM + "-n1.tomcat-1", sid.toString());
    }

    @Test
    void idWithoutRouteHasNullRoute() {
        SessionId sid = SessionId.parse(RANDOM + "-n1");

        assertNotNull(sid);
        assertEquals("n1", sid.nodeId());
        assertNull(sid.jvmRoute());
        assertEquals(RANDOM + "-n1", sid.toString());
    }

    @Test
    void emptyRouteIsNoRoute() {
        assertEquals(RANDOM + "-n1", SessionId.of(RANDOM, "n1", "").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ABCDEF", "-n1", "abc-", "abc-n1.", "ABCDEF.tomcat1", ""})
    void idNotInMsmFormIsNull(String id) {
        assertNull(SessionId.parse(id), id);
    }

    @Test
    void nullIdIsNull() {
        assertNull(SessionId.parse(null));
    }

    @Test
    void withNodeKeepsRandomAndRoute() {
        SessionId moved = SessionId.parse(RANDOM + "-n1.tomcat-1").withNode("n2");

        assertEquals(RANDOM + "-n2.tomcat-1", moved.toString());
    }

    @Test
    void withRouteKeepsRandomAndNodeAndNullRemovesRoute() {
        SessionId sid = SessionId.parse(RANDOM + "-n1.tomcat1");

        assertEquals(RANDOM + "-n1.tomcat2", sid.withRoute("tomcat2").toString());
        assertEquals(RANDOM + "-n1", sid.withRoute(null).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {RANDOM + "-n1.tomcat-1", RANDOM + "-n1", RANDOM, RANDOM + ".tomcat1"})
    void maskedNeverContainsTheFullRandomPart(String id) {
        String masked = SessionId.masked(id);

        assertFalse(masked.contains(RANDOM), masked);
        assertTrue(masked.length() < id.length(), masked);
    }

    @Test
    void maskedKeepsNodeAndRouteForCorrelation() {
        assertEquals("…E8F9-n1.tomcat-1", SessionId.masked(RANDOM + "-n1.tomcat-1"));
        assertEquals("null", SessionId.masked(null));
    }
}

package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/**
 * Sticky mode, a Tomcat passed over by the balancer for a while, not dead: another Tomcat took its
 * user's session over, and the first still holds the old id in memory. A request with the old
 * cookie (a stale tab, or someone who copied it) routes to the first Tomcat: after a logout on the
 * second, it must not find its user logged in there.
 */
class TakenOverCopyIT extends GatedClusterTest {
    @Test
    void aCopyLeftInALiveTomcatIsNotServedAfterTheTomcatThatTookItOverLoggedItsUserOut() throws Exception {
        TomcatNode first = tomcat("tomcat1", manager());
        TomcatNode second = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String old = aliceStoredOn(first, user);
        String taken = user.get(second.url("/app/s/get")).get("id");
        assertNotEquals(old, taken, "taken over by tomcat2");
        user.get(second.url("/app/s/invalidate")); // the logout

        heldFor(first, old, HELD_MILLIS);
        Browser.Page stale = withSession(old).get(first.url("/app/s/peek"));
        assertEquals("none", stale.get("session"), "the old id's copy ended: " + stale.body());
        assertEquals(0, first.manager(APP).getActiveSessions(), "gone from memory, not only hidden");
    }

    /**
     * A long request (a stream) on the first Tomcat still holds the copy when the second takes the
     * session over and its user logs out there. The first's background run, which stores a change
     * made meanwhile once such a request has run 10 s, must not write the old id back.
     */
    @Test
    void aCopyALongRequestHoldsIsNotWrittenBackUnderTheOldIdAfterATakeoverAndLogout() throws Exception {
        TomcatNode first = tomcat("tomcat1", manager());
        TomcatNode second = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String old = aliceStoredOn(first, user);
        String gate = gate();
        java.util.concurrent.Future<Browser.Page> stream = pool.submit(
                () -> withSession(old).get(first.url("/app/s/hold?gateSeconds=60&gate=" + gate)));
        awaitArrivals(gate, 1);
        String taken = user.get(second.url("/app/s/get")).get("id");
        assertNotEquals(old, taken, "taken over by tomcat2");
        user.get(second.url("/app/s/invalidate")); // the logout
        io.msm.testkit.Await.until("the old id's copy deleted", WAIT, () -> serverOf(old).get(key(old)) == null);

        first.manager(APP).findSession(old).getSession().setAttribute("job", "done");
        Thread.sleep(15_000); // past the 10 s after which the background run stores it, and a few runs

        org.junit.jupiter.api.Assertions.assertNull(serverOf(old).get(key(old)), "not written back by tomcat1");
        open(gate);
        stream.get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * The copy the first Tomcat holds reaches its timeout there while its user works on the second: it
     * leaves memory with no listener told of an end (sessionDestroyed, valueUnbound), since the session
     * lives on.
     */
    @Test
    void aCopyTakenOverElsewhereLeavesQuietlyAtItsTimeoutHere() throws Exception {
        TomcatNode first = tomcat("tomcat1", manager());
        TomcatNode second = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String old = aliceStoredOn(first, user);
        user.get(first.url("/app/s/timeout?s=3"));
        String taken = user.get(second.url("/app/s/get")).get("id");
        assertNotEquals(old, taken, "taken over by tomcat2");

        long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(8);
        while (System.nanoTime() < until) { // she works on tomcat2; tomcat1's copy idles past its timeout
            assertEquals("alice", user.get(second.url("/app/s/get")).get("attr.name"));
            Thread.sleep(1000);
        }
        io.msm.testkit.Await.until("the copy gone from tomcat1's memory", WAIT,
                () -> first.manager(APP).getActiveSessions() == 0);
        assertEquals(0, SessionEvents.destroyed(old), "no sessionDestroyed for a session that lives on");
        assertEquals("alice", user.get(second.url("/app/s/get")).get("attr.name"), "still logged in on tomcat2");
    }

    @Test
    void aCopyIdleHereThatNobodyTookOverIsServed() throws Exception {
        TomcatNode first = tomcat("tomcat1", manager());
        tomcat("tomcat2", manager());
        Browser user = new Browser();
        String id = aliceStoredOn(first, user);

        heldFor(first, id, HELD_MILLIS);
        assertEquals("alice", user.get(first.url("/app/s/get")).get("attr.name"));
    }

    /** Taken over, then back under its first id (the second Tomcat stopped): its own again, and served. */
    @Test
    void aSessionBackUnderTheIdItOnceLeftIsServed() throws Exception {
        TomcatNode first = tomcat("tomcat1", manager());
        TomcatNode second = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String id = aliceStoredOn(first, user);
        String taken = user.get(second.url("/app/s/set?step=2")).get("id");
        awaitStored(taken);
        second.close();

        assertEquals(id, user.get(first.url("/app/s/get")).get("id"), "back under its first id");
        heldFor(first, id, HELD_MILLIS);
        Browser.Page back = user.get(first.url("/app/s/get"));
        assertEquals("alice", back.get("attr.name"));
        assertEquals("2", back.get("attr.step"));
    }

    /**
     * A Tomcat that loads a copy (here after its restart) under which a mark is left (a return whose
     * delete of the mark failed) takes that mark as one the copy passed: the copy may be the session's
     * only one, and is served on.
     */
    @Test
    void aCopyLoadedUnderAnOldMarkIsServed() throws Exception {
        TomcatNode first = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String id = aliceStoredOn(first, user);
        first.close();
        byte[] mark = java.nio.ByteBuffer.allocate(Long.BYTES).putLong(42).array();
        serverOf(id).set("localhost_" + APP + "_moved:" + id, mark, 0);

        TomcatNode restarted = tomcat("tomcat1", manager());
        assertEquals("alice", user.get(restarted.url("/app/s/get")).get("attr.name"));
        for (int check = 0; check < 2; check++) {
            heldFor(restarted, id, HELD_MILLIS);
            assertEquals("alice", user.get(restarted.url("/app/s/get")).get("attr.name"), "check " + check);
        }
    }

    /** @return the id of the session in which the user, on {@code tomcat}, set her name: stored in memcached */
    private String aliceStoredOn(TomcatNode tomcat, Browser user) {
        String id = user.get(tomcat.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        return id;
    }

}

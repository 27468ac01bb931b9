package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/** A memcached node restarted empty gets back, without any request, the sessions a Tomcat holds for it. */
class RestartedNodeIT extends ClusterTest {

    @Test
    void sessionsOnlyReadAreWrittenAgainToANodeThatRestartedEmpty() {
        TomcatNode tomcat1 = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/set?cart=3")).get("id");
        awaitStored(id);
        user.get(tomcat1.url("/app/s/get")); // only read from now on: nothing would write it again
        MemcachedServer node = serverOf(id);

        node.restart(); // an upgrade or a reboot: same port, nothing in it
        assertNull(node.get(key(id)));

        Await.until("the session written again to the restarted node, without a request", WAIT,
                () -> node.get(key(id)) != null);
        assertEquals(1, count(tomcat1, Counter.NODES_FOUND_EMPTY));

        tomcat1.close(); // its Tomcat dies now: another one takes the session over from memcached
        TomcatNode tomcat2 = tomcat("tomcat2", manager());
        assertEquals("3", user.get(tomcat2.url("/app/s/get")).get("attr.cart"), "still logged in, cart kept");
    }

    /**
     * A node restarted empty, and the Tomcat holding a session only read since is shut down (a rolling
     * restart) before its background run wrote the session there again: its stop writes it, so the next
     * Tomcat takes it over. It was dropped with the stop's WARN, although the node answered.
     */
    @Test
    void aShutdownRightAfterTheNodeRestartedEmptyWritesTheSessionsItHoldsThere() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager()).withoutBackgroundRuns());
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/set?cart=3")).get("id");
        awaitStored(id);
        user.get(tomcat1.url("/app/s/get"));
        MemcachedServer node = serverOf(id);

        node.restart();
        Await.until("tomcat1 to find the node empty", WAIT, () -> count(tomcat1, Counter.NODES_FOUND_EMPTY) == 1);
        assertNull(node.get(key(id)), "nothing wrote it again yet");

        tomcat1.close();
        TomcatNode tomcat2 = tomcat("tomcat2", manager());
        assertEquals("3", user.get(tomcat2.url("/app/s/get")).get("attr.cart"), "still logged in, cart kept");
    }
}

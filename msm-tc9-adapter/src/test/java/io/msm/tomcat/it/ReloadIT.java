package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;

/**
 * A reload or redeploy of a sticky webapp while no memcached node answers: the sessions only this
 * Tomcat's memory holds are kept in the JVM and taken back by the next start, then backed up once a
 * node answers again. Before, the stop dropped them without a word and their users were logged out.
 */
class ReloadIT extends ClusterTest {
    @Test
    void sessionsHeldOnlyInMemorySurviveAReloadAndARedeploy_andReachMemcachedOnceItAnswers() {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        n1.kill();
        n2.kill();
        Browser alice = new Browser();
        Browser bob = new Browser();
        assertEquals("alice", alice.get(tomcat.url("/app/s/set?name=alice")).get("attr.name"));
        assertEquals("bob", bob.get(tomcat.url("/app/s/set?name=bob&cart=3")).get("attr.name"));
        String aliceId = alice.sessionId();

        // Embedded, a reload would drop the test's servlets; redeploying twice stops and starts the
        // manager as a reload does, and makes a new one each time (the e2e tests reload for real).
        tomcat.redeploy(APP);
        Browser.Page afterRedeploy = alice.get(tomcat.url("/app/s/get"));
        assertEquals("alice", afterRedeploy.get("attr.name"), "still logged in after the redeploy");
        assertNull(afterRedeploy.newSessionCookie(), "same session");
        assertEquals(2, count(tomcat, Counter.SESSIONS_KEPT_OVER_RESTART));

        tomcat.redeploy(APP);
        assertEquals("alice", alice.get(tomcat.url("/app/s/get")).get("attr.name"), "and after a second one");
        assertEquals("3", bob.get(tomcat.url("/app/s/get")).get("attr.cart"));
        assertEquals(2, count(tomcat, Counter.SESSIONS_KEPT_OVER_RESTART), "the new manager took both back");

        n1.restart();
        n2.restart();
        // Backed up by the background run once a node answers, without a further request of theirs.
        Await.until("alice's session in memcached", WAIT, () -> serverOf(aliceId).get(key(aliceId)) != null);
        TomcatNode other = tomcat("tomcat2", manager());
        tomcat.close();
        assertEquals("alice", alice.get(other.url("/app/s/get")).get("attr.name"), "read from memcached");
    }
}

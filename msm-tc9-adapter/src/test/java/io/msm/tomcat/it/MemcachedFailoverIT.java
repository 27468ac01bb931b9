package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.msm.core.SessionId;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/** A memcached node dies (kill -9); the sessions it held move, and users notice nothing. */
class MemcachedFailoverIT extends ClusterTest {

    @Test
    void sessionOnAKilledNodeMovesToAnotherNodeWithNothingLost() {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/s/set?name=alice&step=2")).get("id");
        awaitStored(id);
        MemcachedServer holder = serverOf(id);
        MemcachedServer survivor = otherServer(id);

        holder.kill();
        Browser.Page page = awaitMoved(user, tomcat, id);

        assertEquals(200, page.status());
        assertEquals("alice", page.get("attr.name"));
        assertEquals("2", page.get("attr.step"));
        String newId = page.newSessionCookie();
        assertEquals(SessionId.parse(id).random(), SessionId.parse(newId).random());
        Await.until("the session stored on the surviving node", WAIT, () -> survivor.get(key(newId)) != null);

        Browser otherTab = new Browser(); // a request sent before the new cookie arrived
        otherTab.sessionId(id);
        Browser.Page late = otherTab.get(tomcat.url("/app/s/get"));
        assertEquals(newId, late.get("id"), "the old cookie still reaches the moved session for a while");
        assertEquals("alice", late.get("attr.name"));
    }

    @Test
    void failoverNodeTakesSessionsOnlyWhileNoRegularNodeIsUp_andTheyMoveBack() {
        TomcatNode tomcat = tomcat("tomcat1", manager("failoverNodes", "n2"));
        Browser user = new Browser();
        for (int i = 0; i < 5; i++) {
            Browser someone = new Browser();
            assertEquals("n1", SessionId.parse(someone.get(tomcat.url("/app/s/set?i=" + i)).get("id")).nodeId(),
                    "new sessions go to the regular node");
        }
        String id = user.get(tomcat.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);

        n1.kill();
        Browser.Page onFailover = awaitMoved(user, tomcat, id);
        String failoverId = onFailover.newSessionCookie();
        assertEquals("n2", SessionId.parse(failoverId).nodeId());
        Await.until("the session stored on the failover node", WAIT, () -> n2.get(key(failoverId)) != null);

        n1.restart();
        Browser.Page back = awaitMoved(user, tomcat, failoverId);
        String backId = back.newSessionCookie();
        assertEquals("n1", SessionId.parse(backId).nodeId(), "the session leaves the failover node");
        assertEquals("alice", back.get("attr.name"));
        Await.until("the session stored on the regular node again", WAIT, () -> n1.get(key(backId)) != null);
        Await.until("the failover copy deleted", WAIT, () -> n2.get(key(failoverId)) == null);
    }

    @Test
    void withEveryNodeDownRequestsAreServedFromMemory_andBackedUpOnceANodeIsBack() {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        n1.kill();
        n2.kill();
        Browser user = new Browser();
        Browser.Page created = user.get(tomcat.url("/app/s/set?name=alice"));
        assertEquals(200, created.status());
        String id = created.get("id");
        assertNotNull(SessionId.parse(id));
        for (int i = 0; i < 3; i++) {
            Browser.Page page = user.get(tomcat.url("/app/s/incr"));
            assertEquals(200, page.status());
            assertEquals(String.valueOf(i + 1), page.get("attr.counter"));
        }

        n1.restart();
        n2.restart();
        // No further request: the manager's background task backs the session up.
        String current = user.sessionId();
        Await.until("the session created while memcached was down stored once it is back", WAIT,
                () -> serverOf(current).get(key(current)) != null);
        assertEquals("3", user.get(tomcat.url("/app/s/get")).get("attr.counter"));
    }

    /** Requests until one answers with a renamed session (the node's loss may take a moment to be seen). */
    private Browser.Page awaitMoved(Browser user, TomcatNode tomcat, String id) {
        Browser.Page[] last = new Browser.Page[1];
        // Moving back waits for a reconnect, the end of the down mark, and the repairs: slow on a busy machine.
        Await.until("session " + id + " moved to another node", Duration.ofSeconds(30), () -> {
            last[0] = user.get(tomcat.url("/app/s/get"));
            return last[0].newSessionCookie() != null;
        });
        assertNotEquals(SessionId.parse(id).nodeId(), SessionId.parse(last[0].newSessionCookie()).nodeId());
        return last[0];
    }
}

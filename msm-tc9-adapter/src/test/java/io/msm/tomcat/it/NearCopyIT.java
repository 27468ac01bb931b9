package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import io.msm.core.Statistics.Counter;
import io.msm.testkit.MemcachedServer;

/**
 * Non-sticky mode reuses the session a Tomcat decoded or stored while memcached holds the same bytes
 * (NEAR_COPIES_USED); whatever another Tomcat or memcached did meanwhile is seen as before.
 */
class NearCopyIT extends ClusterTest {

    @Test
    void aSessionReadAgainOnTheSameTomcatIsNotDecodedAgain_andItsChangesGoOnBeingStored() {
        TomcatNode[] tomcats = cluster("lockingMode", "none");
        Browser user = new Browser();
        user.get(tomcats[0].url("/app/s/set?name=alice"));
        for (int i = 0; i < 3; i++) {
            assertEquals("alice", user.get(tomcats[0].url("/app/s/get")).get("attr.name"));
        }
        assertTrue(count(tomcats[0], Counter.NEAR_COPIES_USED) >= 3, "reads after the store reuse its copy");

        user.get(tomcats[0].url("/app/s/append?item=x")); // a list changed in place, without setAttribute
        user.get(tomcats[0].url("/app/s/append?item=y"));
        assertEquals("[x, y]", user.get(tomcats[1].url("/app/s/get")).get("attr.items"),
                "another Tomcat reads what the reused copy's changes stored");
    }

    @Test
    void anAttributeThatCouldNotBeStoredIsGoneOnTheSameTomcatToo_asOnEveryOther() {
        TomcatNode[] tomcats = cluster("lockingMode", "none");
        Browser user = new Browser();
        user.get(tomcats[0].url("/app/s/set?name=alice&blob=unserializable"));

        for (int i = 0; i < 2; i++) { // after the store, and after a request that changed nothing
            Browser.Page same = user.get(tomcats[0].url("/app/s/get"));
            assertEquals("alice", same.get("attr.name"));
            assertNull(same.get("attr.blob"), "what memcached does not hold is no Tomcat's");
        }
        assertNull(user.get(tomcats[1].url("/app/s/get")).get("attr.blob"));
    }

    @Test
    void aStoreOnAnotherTomcatIsReadNotTheKeptCopy() {
        TomcatNode[] tomcats = cluster("lockingMode", "none");
        Browser user = new Browser();
        user.get(tomcats[0].url("/app/s/set?form=draft-1"));
        user.get(tomcats[0].url("/app/s/get")); // kept on tomcat1

        user.get(tomcats[1].url("/app/s/set?form=draft-2"));

        assertEquals("draft-2", user.get(tomcats[0].url("/app/s/get")).get("attr.form"));
    }

    @Test
    void anInvalidationOnAnotherTomcatEndsTheSessionHereToo() {
        TomcatNode[] tomcats = cluster("lockingMode", "all");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?form=draft-1")).get("id");
        user.get(tomcats[0].url("/app/s/get"));

        withSession(id).get(tomcats[1].url("/app/s/invalidate"));
        Browser.Page after = withSession(id).get(tomcats[0].url("/app/s/get"));

        assertNull(after.get("attr.form"), after.body());
        assertNotEquals(id, after.get("id"), "a new session");
    }

    @Test
    void aNodeRestartedEmptyServesTheBackupCopy_notTheKeptOne() {
        TomcatNode[] tomcats = cluster("lockingMode", "none");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?form=draft-1")).get("id");
        user.get(tomcats[0].url("/app/s/get"));
        MemcachedServer primary = serverOf(id);
        awaitBackupCopy(id);

        primary.kill();
        user.get(tomcats[1].url("/app/s/set?form=draft-2")); // written to the backup node only
        primary.restart();
        Browser.Page after = user.get(tomcats[0].url("/app/s/get"));

        assertEquals("draft-2", after.get("attr.form"), after.body());
    }
}

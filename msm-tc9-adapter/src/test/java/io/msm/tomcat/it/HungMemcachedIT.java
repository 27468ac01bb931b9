package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.msm.core.SessionId;
import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * A memcached node hangs (SIGSTOP) instead of dying: its connections stay open, nothing is
 * answered, and when it answers again it still holds what it held before. Requests must not wait
 * past {@code operationTimeout}, and the copies it kept must not overrule what was written
 * meanwhile.
 */
class HungMemcachedIT extends ClusterTest {
    /** Longer than a health check (1 s) plus an operation timeout: every Tomcat uses the node again. */
    private static final Duration BACK_IN_USE = Duration.ofSeconds(4);
    /** Long enough for every Tomcat's health check to notice the hang. */
    private static final Duration HANG = Duration.ofSeconds(3);

    @Test
    void stickySync_aHungNodeCostsOneOperationTimeout_andTheSessionMovesWithNothingLost() {
        TomcatNode tomcat = tomcat("tomcat1", manager("sessionBackupAsync", "false", "operationTimeout", "300",
                "sessionBackupTimeout", "2000"));
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/s/set?name=alice&step=1")).get("id");
        awaitStored(id);
        MemcachedServer holder = serverOf(id);
        MemcachedServer survivor = otherServer(id);

        holder.pause();
        long start = System.nanoTime();
        Browser.Page changed = user.get(tomcat.url("/app/s/set?step=2"));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, changed.status());
        assertEquals("2", changed.get("attr.step"));
        assertTrue(millis < 5_000, "a request waited " + millis + " ms on a hung node (sessionBackupTimeout=2000)");

        Browser.Page[] moved = new Browser.Page[1];
        Await.until("session " + id + " moved off the hung node", WAIT, () -> {
            moved[0] = user.get(tomcat.url("/app/s/get"));
            return moved[0].newSessionCookie() != null;
        });
        String newId = moved[0].newSessionCookie();
        assertNotEquals(SessionId.parse(id).nodeId(), SessionId.parse(newId).nodeId());
        assertEquals("alice", moved[0].get("attr.name"));
        assertEquals("2", moved[0].get("attr.step"));
        Await.until("the session stored on the node that answers", WAIT, () -> survivor.get(key(newId)) != null);

        holder.resume();
        assertEquals("3", user.get(tomcat.url("/app/s/set?step=3")).get("attr.step"));
        assertEquals(newId, user.sessionId(), "no move back: the session stays where it is");
    }

    @Test
    void nonSticky_changesMadeWhileThePrimaryHungAreNotOverruledByItsOldCopyWhenItAnswersAgain() {
        TomcatNode[] tomcats = cluster("operationTimeout", "300");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice&step=1")).get("id");
        MemcachedServer primary = serverOf(id);
        awaitBackupCopy(id);

        hang(primary, () -> {
            Browser.Page changed = user.get(tomcats[0].url("/app/s/set?step=2"));
            assertEquals(200, changed.status());
            assertEquals(id, changed.get("id"), "same session, from its backup copy");
            assertEquals("2", user.get(tomcats[1].url("/app/s/get")).get("attr.step"));
        });

        // The node's copy still says step=1: every read, on either Tomcat, must still see 2, until the
        // node is in use again and has got the newer copy back, and a while after.
        int[] reads = {0};
        Runnable read = () -> {
            Browser.Page page = user.get(tomcats[reads[0]++ % 2].url("/app/s/get"));
            assertEquals(id, page.get("id"));
            assertEquals("alice", page.get("attr.name"));
            assertEquals("2", page.get("attr.step"), "read " + reads[0] + " after the node answered again");
        };
        Await.until("the node to get the newer copy back", Duration.ofSeconds(10), () -> {
            read.run();
            return count(tomcats[0], Counter.PRIMARY_COPIES_REBUILT)
                    + count(tomcats[1], Counter.PRIMARY_COPIES_REBUILT) >= 1;
        });
        long end = System.nanoTime() + BACK_IN_USE.toNanos();
        while (System.nanoTime() < end) {
            read.run();
        }
        assertEquals("3", user.get(tomcats[0].url("/app/s/set?step=3")).get("attr.step"));
        assertEquals("3", user.get(tomcats[1].url("/app/s/get")).get("attr.step"));
        // A lock add that timed out during the hang was applied when the node woke up; it was deleted
        // then, so no request waited lockWaitTimeout for a lock nobody held.
        assertEquals(0, count(tomcats[0], Counter.LOCK_TIMEOUTS) + count(tomcats[1], Counter.LOCK_TIMEOUTS));
    }

    @Test
    void nonSticky_aSessionInvalidatedWhileItsPrimaryHungStaysGoneWhenTheNodeAnswersAgain() {
        TomcatNode[] tomcats = cluster("operationTimeout", "300");
        Browser user = new Browser();
        String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
        MemcachedServer primary = serverOf(id);
        awaitBackupCopy(id);

        hang(primary, () -> assertEquals("invalidated",
                user.get(tomcats[0].url("/app/s/invalidate")).body().trim()));

        long end = System.nanoTime() + BACK_IN_USE.toNanos();
        int reads = 0;
        while (System.nanoTime() < end) {
            Browser old = withSession(id);
            Browser.Page page = old.get(tomcats[reads++ % 2].url("/app/s/peek"));
            assertNull(page.get("attr.name"), "read " + reads + ": the logged-out session came back");
        }
        Await.until("the node's old copy deleted", WAIT, () -> primary.get(key(id)) == null);
        assertEquals(0, count(tomcats[0], Counter.LOCK_TIMEOUTS) + count(tomcats[1], Counter.LOCK_TIMEOUTS));
    }

    @Test
    void sticky_aSessionInvalidatedWhileItsNodeHungIsDeletedThereWhenTheNodeAnswersAgain() {
        TomcatNode tomcat = tomcat("tomcat1", manager("operationTimeout", "300"));
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        MemcachedServer holder = serverOf(id);

        hang(holder, () -> assertEquals("invalidated", user.get(tomcat.url("/app/s/invalidate")).body().trim()));

        // Another Tomcat would load this copy for the old cookie: it must go, not wait for its expiry.
        Await.until("the invalidated session deleted from the node that hung", WAIT, () -> holder.get(key(id)) == null);
        assertTrue(count(tomcat, Counter.DELETE_FAILURES) + count(tomcat, Counter.DELETES_DEFERRED) >= 1,
                "the first delete did not reach the node: it failed, or waited for the node to answer");
    }

    /** The node hangs for {@link #HANG} while {@code meanwhile} runs, then answers again. */
    private static void hang(MemcachedServer node, Runnable meanwhile) {
        long end = System.nanoTime() + HANG.toNanos();
        node.pause();
        try {
            meanwhile.run();
            long left = end - System.nanoTime();
            if (left > 0) {
                Thread.sleep(left / 1_000_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            node.resume();
        }
    }
}

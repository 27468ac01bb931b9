package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.msm.core.Statistics.Counter;
import io.msm.serializers.Transcoding;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * A context file written for memcached-session-manager 2.3.2 keeps its meaning here, and
 * {@code compatibility} keeps 2.3.2's copies (MigrationFromMsm2IT runs 2.3.2's own jars against them).
 */
class Msm2CompatibilityIT extends ClusterTest {

    @Test
    void sessionAttributeFilterKeepsWhatDoesNotMatchOutOfMemcached() {
        TomcatNode tomcat = tomcat("tomcat1", manager("sessionAttributeFilter", "keep.*"));
        String id = new Browser().get(tomcat.url("/app/s/set?keepme=visible-1&secret=hidden-2")).get("id");
        awaitStored(id);

        String stored = new String(serverOf(id).get(key(id)), StandardCharsets.ISO_8859_1);
        assertTrue(stored.contains("visible-1"), "a matching attribute is stored");
        assertFalse(stored.contains("hidden-2"), "an attribute the operator kept out is never stored");
    }

    @Test
    void lockingAttributesWithStickySessionsAreNamedAsWithoutEffect_andTheWebappStarts() {
        TomcatNode tomcat;
        List<String> warnings;
        try (Transcoding.Warnings log = Transcoding.Warnings.capture("io.msm.tomcat")) {
            tomcat = tomcat("tomcat1", manager("lockingMode", "all", "copyCollectionsForSerialization", "false"));
            warnings = log.messages();
        }
        assertTrue(tomcat.isAvailable(APP), "the webapp starts, as it did with 2.3.2");
        assertTrue(warnings.stream().anyMatch(w -> w.contains("no effect") && w.contains("lockingMode")
                && w.contains("copyCollectionsForSerialization")), "one WARN names both: " + warnings);
    }

    @Test
    void maxInactiveIntervalOf232SetsTheTimeoutOfNewSessions() {
        TomcatNode tomcat = tomcat("tomcat1", manager("maxInactiveInterval", "600"));
        String id = new Browser().get(tomcat.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        // memcached's crawler may list an item a moment after a get finds it.
        Await.until("the copy listed with its expiry", WAIT, () -> serverOf(id).expiresAt(key(id)) != null);
        long remaining = serverOf(id).expiresAt(key(id)) - System.currentTimeMillis() / 1000;
        assertTrue(Math.abs(remaining - 660) <= 3, "600 s and the refresh slack, not 30 min: " + remaining);
    }

    /** Tomcat's own managers set the timeout before sessionCreated: XNAT's listener sets its site's there. */
    @Test
    void aTimeoutASessionCreatedListenerSetsWinsOverMaxInactiveInterval() {
        SessionEvents.timeoutAtCreation = 7200;
        try {
            TomcatNode tomcat = tomcat("tomcat1", manager("maxInactiveInterval", "600"));
            assertEquals("7200", new Browser().get(tomcat.url("/app/s/set?name=alice")).get("maxInactive"));
        } finally {
            SessionEvents.timeoutAtCreation = null;
        }
    }

    /**
     * 2.3.2's Tomcats know nothing of a FORM login under way: they would show it to the webapp as an
     * attribute and keep it past its replay, so a later visit of the page on msm would replay it again.
     * Beside them it stays in memory, as Tomcat keeps it.
     */
    @Test
    void withCompatibilityALoginUnderWayIsNotStoredAndStillWorksOnItsTomcat() {
        TomcatNode tomcat1 = started(new TomcatNode("tomcat1").webapp(APP, manager("compatibility", "msm2"), "FORM"));
        Browser user = new Browser();
        assertTrue(user.postForm(tomcat1.url("/app/secure/set"), "form=draft").body().contains("login-form"));
        String id = user.sessionId();
        MemcachedServer node = serverOf(id);
        Await.until("both copies of the login page's session written", WAIT,
                () -> node.get(id) != null && node.get(key(id)) != null);
        for (byte[] copy : new byte[][] {node.get(id), node.get(key(id))}) {
            assertFalse(new String(copy, StandardCharsets.ISO_8859_1).contains("formLogin"), "no login under way stored");
        }

        assertEquals(303, user.postForm(tomcat1.url("/app/j_security_check"), "j_username=alice&j_password=secret")
                .status());
        Browser.Page replay = user.get(tomcat1.url("/app/secure/set"));
        assertEquals("draft", replay.get("attr.form"), "the form sent on, from this Tomcat's memory");
    }

    @Test
    void compatibilityWrites232sCopy_readsIt_andDeletesItWithTheSession() {
        TomcatNode tomcat1 = tomcat("tomcat1", manager("compatibility", "msm2"));
        TomcatNode tomcat2 = tomcat("tomcat2", manager("compatibility", "msm2"));
        Browser user = new Browser();
        String id = user.get(tomcat1.url("/app/s/set?form=half-filled")).get("id");
        MemcachedServer node = serverOf(id);
        // 2.3.2's key: its default storageKeyPrefix (webappVersion) is empty for a webapp without a version.
        Await.until("2.3.2's copy written", WAIT, () -> node.get(id) != null);
        byte[] theirs = node.get(id);
        assertEquals(0, theirs[0]);
        assertEquals(2, theirs[1], "2.3.2's format, version 2");
        assertTrue(new String(theirs, StandardCharsets.ISO_8859_1).contains("half-filled"));
        assertNotNull(node.get(key(id)), "msm's own copy too, for when the attribute goes");

        node.delete(key(id)); // only 2.3.2's copy is left: a session a 2.3.2 Tomcat stored
        Browser.Page taken = withSession(id).get(tomcat2.url("/app/s/get"));

        assertEquals("half-filled", taken.get("attr.form"), taken.body());
        assertEquals(1, count(tomcat2, Counter.MSM2_SESSIONS_READ));
        String renamed = taken.get("id");
        Await.until("msm's copy written back under the new id", WAIT, () -> serverOf(renamed).get(key(renamed)) != null);

        withSession(renamed).get(tomcat2.url("/app/s/invalidate"));
        Await.until("both copies deleted with the session", WAIT,
                () -> serverOf(renamed).get(renamed) == null && serverOf(renamed).get(key(renamed)) == null);
        assertNull(node.get(id), "the copy of the old id, too");
    }

    /**
     * 2.3.2 gave a single {@code host:port} node's sessions ids without a node id; with compatibility
     * msm does too, and reads such ids, so neither side's users look like strangers to the other.
     */
    @Test
    void aSingleHostPortNodeGivesIdsWithoutANode_as232Did() {
        Map<String, String> single = new java.util.LinkedHashMap<>();
        single.put("memcachedNodes", "127.0.0.1:" + n1.port());
        single.put("compatibility", "msm2");
        TomcatNode tomcat1 = tomcat("tomcat1", single);
        TomcatNode tomcat2 = tomcat("tomcat2", single);
        String id = new Browser().get(tomcat1.url("/app/s/set?form=half-filled")).get("id");
        assertTrue(id.matches("[0-9A-F]{32}\\.tomcat1"), "no -n1 in " + id);
        Await.until("2.3.2's copy under the id itself", WAIT, () -> n1.get(id) != null);

        Browser.Page taken = withSession(id).get(tomcat2.url("/app/s/get"));

        assertEquals("half-filled", taken.get("attr.form"), "an id without a node is read: " + taken.body());
        assertTrue(taken.get("id").matches("[0-9A-F]{32}\\.tomcat2"), "renamed without a node: " + taken.get("id"));
        assertEquals(1, count(tomcat2, Counter.MSM2_SESSIONS_READ), "2.3.2's copy is read first while both run");
    }

    /** 2.3.2 deletes only its own copy at a logout: msm's copy left behind must not bring the session back. */
    @Test
    void aLogoutOnA232TomcatIsNotUndoneByMsmsCopy() {
        TomcatNode tomcat1 = tomcat("tomcat1", manager("compatibility", "msm2"));
        TomcatNode tomcat2 = tomcat("tomcat2", manager("compatibility", "msm2"));
        String id = new Browser().get(tomcat1.url("/app/s/set?form=half-filled")).get("id");
        MemcachedServer node = serverOf(id);
        Await.until("both copies written", WAIT, () -> node.get(id) != null && node.get(key(id)) != null);

        node.delete(id); // what 2.3.2's invalidate() does
        Browser.Page after = withSession(id).get(tomcat2.url("/app/s/get"));

        assertNull(after.get("attr.form"), "the session ended: " + after.body());
        assertTrue(!after.get("id").startsWith(id.substring(0, 32)), "a new session, not the old one renamed");
    }

    /**
     * A Tomcat already on msm2-read writes only msm's copy, and a marker in 2.3.2's key: a Tomcat
     * still on msm2 then reads msm's newer copy, not 2.3.2's older one.
     */
    @Test
    void msm2ReadLeavesAMarker_soATomcatStillOnMsm2ReadsTheNewerCopy() {
        TomcatNode reading = tomcat("tomcat1", manager("compatibility", "msm2-read"));
        TomcatNode writing = tomcat("tomcat2", manager("compatibility", "msm2"));
        Browser user = new Browser();
        String id = user.get(writing.url("/app/s/set?form=draft-1")).get("id");
        Await.until("2.3.2's copy written", WAIT, () -> serverOf(id).get(id) != null && serverOf(id).get(id)[0] == 0);

        String renamed = withSession(id).get(reading.url("/app/s/set?form=draft-2")).get("id");
        Await.until("the marker in 2.3.2's key", WAIT, () -> serverOf(renamed).get(renamed) != null
                && serverOf(renamed).get(renamed)[0] == 'm');
        Browser.Page back = withSession(renamed).get(writing.url("/app/s/get"));

        assertEquals("draft-2", back.get("attr.form"), back.body());
    }

    /**
     * The last step of the switch: Tomcats that no longer set compatibility write msm's copy alone, no
     * marker; a Tomcat still on msm2-read must read it, or a failover to it would log its user out.
     */
    @Test
    void aTomcatStillOnMsm2ReadReadsWhatATomcatWithoutCompatibilityWrote() {
        TomcatNode without = tomcat("tomcat1", manager());
        TomcatNode reading = tomcat("tomcat2", manager("compatibility", "msm2-read"));
        Browser user = new Browser();
        String id = user.get(without.url("/app/s/set?form=half-filled")).get("id");
        Await.until("msm's copy written", WAIT, () -> serverOf(id).get(key(id)) != null);
        assertNull(serverOf(id).get(id), "no marker: that Tomcat knows nothing of 2.3.2");

        Browser.Page taken = withSession(id).get(reading.url("/app/s/get"));

        assertEquals("half-filled", taken.get("attr.form"), taken.body());
    }

    /**
     * While some Tomcats are on msm2 and others on msm2-read, the ones on msm2 read msm's copy only
     * through the marker in 2.3.2's key, so the marker must live as long as the copy: a session used
     * without changes has its copy touched, and its marker too, else the marker expires first and a
     * failover to a Tomcat still on msm2 logs the user out.
     */
    @Test
    void onMsm2ReadTheMarkerMovesWithMsmsCopyWhenASessionIsOnlyRead() {
        // 20 s: the copy is touched once the session is used 2 s (a tenth) after its last store.
        TomcatNode reading = tomcat("tomcat1", manager("compatibility", "msm2-read", "maxInactiveInterval", "20"));
        Browser user = new Browser();
        String id = user.get(reading.url("/app/s/set?form=draft")).get("id");
        MemcachedServer node = serverOf(id);
        // memcached's key listing may skip an item written while it runs: asked until it lists it.
        long[] first = new long[1];
        Await.until("the marker in 2.3.2's key", WAIT, () -> {
            Long expiresAt = node.get(id) != null && node.get(id)[0] == 'm' ? node.expiresAt(id) : null;
            first[0] = expiresAt == null ? 0 : expiresAt;
            return expiresAt != null;
        });
        long firstExpiry = first[0];

        Await.until("the marker's expiry moved with msm's copy", Duration.ofSeconds(20), () -> {
            user.get(reading.url("/app/s/get"));
            Long expiresAt = node.expiresAt(id);
            return expiresAt != null && expiresAt > firstExpiry;
        });
        Await.until("the marker listed to live as long as the copy", WAIT, () -> {
            Long marker = node.expiresAt(id);
            Long copy = node.expiresAt(key(id));
            return marker != null && copy != null && marker >= copy - 1;
        });
    }

    /**
     * A session larger than one memcached item: msm writes its own copy in parts, which 2.3.2 could not
     * put together, so 2.3.2's key gets the marker, and the copy 2.3.2 lacks is counted and logged.
     */
    @Test
    void aSessionTooLargeForOneItemLeavesTheMarkerIn232sKey_countedAsACopy232Lacks() {
        TomcatNode writing = tomcat("tomcat1", manager("compatibility", "msm2"));
        TomcatNode other = tomcat("tomcat2", manager("compatibility", "msm2"));
        Browser user = new Browser();
        assertEquals("1500000", user.get(writing.url("/app/s/big?mb=1.5")).get("blob.length"));
        String id = user.sessionId();
        MemcachedServer node = serverOf(id);

        Await.until("the marker in 2.3.2's key", WAIT, () -> node.get(id) != null && node.get(id)[0] == 'm');
        assertEquals(1, count(writing, Counter.MSM2_COPIES_FAILED));
        Browser.Page taken = withSession(id).get(other.url("/app/s/blob"));
        assertEquals("true", taken.get("blob.intact"), "msm's own copy, in parts, read through the marker");
    }
}

package io.msm.tomcat.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import io.msm.core.SessionId;
import io.msm.core.Statistics;
import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * Two real memcached nodes, n1 and n2, and the embedded Tomcats a test starts; all of them are
 * stopped after each test, by PID for memcached.
 */
abstract class ClusterTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final String APP = "/app";

    MemcachedServer n1;
    MemcachedServer n2;
    private final List<TomcatNode> tomcats = new ArrayList<>();

    @BeforeEach
    void startMemcached() {
        n1 = MemcachedServer.start();
        n2 = MemcachedServer.start();
    }

    @AfterEach
    void stopEverything() {
        try {
            for (TomcatNode t : tomcats) {
                t.close();
            }
        } finally {
            n1.close();
            n2.close();
        }
    }

    /** Manager attributes: both nodes, plus the given name/value pairs. */
    Map<String, String> manager(String... nameValue) {
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("memcachedNodes", n1.node("n1") + "," + n2.node("n2"));
        for (int i = 0; i < nameValue.length; i += 2) {
            attrs.put(nameValue[i], nameValue[i + 1]);
        }
        return attrs;
    }

    TomcatNode tomcat(String route, Map<String, String> managerAttributes) {
        return started(new TomcatNode(route).webapp(APP, managerAttributes));
    }

    /** Two non-sticky Tomcats, tomcat1 and tomcat2, on both nodes, plus the given manager attributes. */
    TomcatNode[] cluster(String... attributes) {
        String[] all = new String[attributes.length + 2];
        all[0] = "sticky";
        all[1] = "false";
        System.arraycopy(attributes, 0, all, 2, attributes.length);
        return new TomcatNode[] {tomcat("tomcat1", manager(all)), tomcat("tomcat2", manager(all))};
    }

    /** Another browser (tab, AJAX call) of the same user: it sends the given session id. */
    static Browser withSession(String id) {
        Browser b = new Browser();
        b.sessionId(id);
        return b;
    }

    TomcatNode started(TomcatNode node) {
        tomcats.add(node);
        return node.start();
    }

    /** The memcached key of a session of {@link #APP}, with the default storageKeyPrefix. */
    static String key(String sessionId) {
        return "localhost_" + APP + "_" + sessionId;
    }

    /** The key of a non-sticky session's backup copy, on the node after its own. */
    static String backupKey(String sessionId) {
        return "localhost_" + APP + "_backup:" + sessionId;
    }

    MemcachedServer serverOf(String sessionId) {
        String node = SessionId.parse(sessionId).nodeId();
        return node.equals("n1") ? n1 : n2;
    }

    MemcachedServer otherServer(String sessionId) {
        return serverOf(sessionId) == n1 ? n2 : n1;
    }

    void awaitStored(String sessionId) {
        Await.until("session " + sessionId + " stored in memcached", WAIT,
                () -> serverOf(sessionId).get(key(sessionId)) != null);
    }

    /** Non-sticky: waits until the session's backup copy is on the node after its own. */
    void awaitBackupCopy(String sessionId) {
        Await.until("the backup copy of " + sessionId + " written", WAIT,
                () -> otherServer(sessionId).get(backupKey(sessionId)) != null);
    }

    /** Longer than the minute after which a copy in memory is checked again before it is served. */
    static final long HELD_MILLIS = 61_000;

    /** As if this Tomcat had held the copy that long, and not asked about a takeover meanwhile. */
    static void heldFor(TomcatNode tomcat, String id, long millis) throws Exception {
        org.apache.catalina.Session session = tomcat.manager(APP).findSession(id);
        java.lang.reflect.Field checked = session.getClass().getDeclaredField("takeoverCheckedAt");
        checked.setAccessible(true);
        checked.setLong(session, System.currentTimeMillis() - millis);
    }

    static long count(TomcatNode node, Statistics.Counter counter) {
        return node.manager(APP).getStatistics().get(counter);
    }
}

package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * memcached started with SASL ({@code -S}) and a password database made by the test: the right
 * credentials work in both modes; wrong or missing ones are one SEVERE line per node naming the
 * cause, never the password, while sessions are served from memory.
 */
class SaslIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String APP = "/app";
    private static final String PASSWORD = "pw-4f1c9e-s3cret";

    private MemcachedServer n1;
    private MemcachedServer n2;
    private final List<TomcatNode> tomcats = new ArrayList<>();
    private LogCapture log;

    @BeforeEach
    void start() {
        n1 = MemcachedServer.startWithSasl("msm", PASSWORD);
        n2 = MemcachedServer.startWithSasl("msm", PASSWORD);
        log = new LogCapture("");
    }

    @AfterEach
    void stop() {
        log.close();
        tomcats.forEach(TomcatNode::close);
        n1.close();
        n2.close();
    }

    private TomcatNode tomcat(String route, String... attributes) {
        Map<String, String> attrs = new LinkedHashMap<>();
        attrs.put("memcachedNodes", n1.node("n1") + "," + n2.node("n2"));
        for (int i = 0; i < attributes.length; i += 2) {
            attrs.put(attributes[i], attributes[i + 1]);
        }
        TomcatNode node = new TomcatNode(route).webapp(APP, attrs);
        tomcats.add(node);
        return node.start();
    }

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(booleans = {true, false})
    void theRightCredentialsWork(boolean sticky) {
        String[] attrs = sticky ? new String[] {"username", "msm", "password", PASSWORD, "sessionBackupAsync", "false",
            "sessionBackupTimeout", "5000"} : new String[] {"sticky", "false", "username", "msm", "password", PASSWORD};
        TomcatNode tomcat1 = tomcat("tomcat1", attrs);
        TomcatNode tomcat2 = tomcat("tomcat2", attrs);
        Browser user = new Browser();
        assertEquals("alice", user.get(tomcat1.url("/app/s/set?name=alice")).get("attr.name"));
        tomcat1.close();
        assertEquals("alice", user.get(tomcat2.url("/app/s/get")).get("attr.name"), "read from memcached");
        assertTrue(log.lines(r -> r.getLevel().intValue() >= Level.WARNING.intValue()).isEmpty(), String.valueOf(log.lines()));
    }

    @ParameterizedTest(name = "password={0}")
    @ValueSource(strings = {"wrong", "none"})
    void wrongOrMissingCredentialsAreOneSevereLinePerNode_andSessionsStayInMemory(String password) {
        String[] attrs = password.equals("none") ? new String[0]
                : new String[] {"username", "msm", "password", "not-" + PASSWORD};
        TomcatNode tomcat = tomcat("tomcat1", attrs);
        Browser user = new Browser();
        for (int i = 1; i <= 20; i++) {
            Browser.Page page = user.get(tomcat.url("/app/s/set?step=" + i));
            assertEquals(200, page.status());
            assertEquals(String.valueOf(i), page.get("attr.step"), "served from memory");
        }
        Await.until("a SEVERE line for each node", WAIT, () -> severe().size() >= 2);
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < end) {
            assertEquals(200, user.get(tomcat.url("/app/s/get")).status());
        }
        List<String> severe = severe();
        assertEquals(2, severe.size(), "once per node while it lasts (at most once a minute): " + severe);
        assertTrue(severe.get(0).contains("authentication failed"), severe.get(0));
        assertTrue(severe.stream().anyMatch(l -> l.contains("n1")) && severe.stream().anyMatch(l -> l.contains("n2")),
                String.valueOf(severe));
        assertFalse(log.lines().stream().anyMatch(l -> l.contains(PASSWORD)), "no password in the log");
    }

    private List<String> severe() {
        return log.lines(r -> r.getLevel() == Level.SEVERE && r.getLoggerName() != null
                && r.getLoggerName().startsWith("io.msm"));
    }
}

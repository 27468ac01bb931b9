package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.logging.Level;

import org.junit.jupiter.api.Test;

import io.msm.core.Statistics.Counter;
import io.msm.testkit.Await;

/**
 * Sticky mode with two Tomcats of one jvmRoute (a cloned VM, a copied server.xml): both take that
 * route's users for theirs, each with its own copy in memory. Nothing fails, so only the log can tell
 * the operator. A Tomcat that restarts with its route is not such a twin.
 */
class SameRouteIT extends ClusterTest {
    /** Claims are renewed every 10 s: a twin is seen at the second look, a stale claim expires in 30 s. */
    private static final Duration ROUNDS = Duration.ofSeconds(45);

    private static List<String> twinLines(LogCapture log, String route) {
        String named = route.isEmpty() ? "without a jvmRoute" : "with jvmRoute \"" + route + "\"";
        return log.lines(r -> r.getLevel() == Level.SEVERE && String.valueOf(r.getMessage()).contains(named));
    }

    private List<String> claims(String route) {
        List<String> found = new java.util.ArrayList<>();
        for (io.msm.testkit.MemcachedServer node : List.of(n1, n2)) {
            node.keys().stream().filter(k -> k.contains("msm:route:" + route + ":")).forEach(found::add);
        }
        return found;
    }

    @Test
    void twoTomcatsWithOneRouteAreToldInTheLog() {
        try (LogCapture log = new LogCapture("io.msm")) {
            TomcatNode first = tomcat("tomcat1", manager());
            TomcatNode twin = tomcat("tomcat1", manager());
            TomcatNode other = tomcat("tomcat2", manager()); // a route of its own: never named
            Await.until("a SEVERE line naming the shared route", ROUNDS, () -> !twinLines(log, "tomcat1").isEmpty());
            assertTrue(count(first, Counter.ROUTE_TWINS) + count(twin, Counter.ROUTE_TWINS) > 0, "counted for JMX");
            assertEquals(0, count(other, Counter.ROUTE_TWINS));
            String line = twinLines(log, "tomcat1").get(0);
            assertTrue(line.contains("another Tomcat runs this webapp") && line.contains("server.xml"), line);
            assertEquals(List.of(), twinLines(log, "tomcat2"));
        }
    }

    /** Tomcats that all lack a jvmRoute are twins too: each takes every session for its own. */
    @Test
    void twoTomcatsWithoutARouteAreToldInTheLog() {
        try (LogCapture log = new LogCapture("io.msm")) {
            tomcat("", manager());
            tomcat("", manager());
            Await.until("a SEVERE line about the missing route", ROUNDS, () -> !twinLines(log, "").isEmpty());
        }
    }

    @Test
    void aTomcatRestartedWithItsRouteIsNoTwin() throws Exception {
        try (LogCapture log = new LogCapture("io.msm")) {
            TomcatNode first = tomcat("tomcat1", manager());
            Await.until("its claim written", WAIT, () -> claims("tomcat1").size() == 2);
            String key = claims("tomcat1").get(0);
            byte[] claim = n1.get(key);
            first.close();
            assertEquals(List.of(), claims("tomcat1"), "a Tomcat that stops deletes its claim");
            // A crash leaves it: put back as it was, to expire by itself.
            n1.set(key, claim, 30);
            n2.set(key, claim, 30);
            TomcatNode restarted = tomcat("tomcat1", manager());
            // Past the old claim's expiry and two rounds after: a twin would have been named by now.
            Thread.sleep(ROUNDS.toMillis());
            assertEquals(List.of(), twinLines(log, "tomcat1"));
            assertEquals(0, count(restarted, Counter.ROUTE_TWINS));
            assertEquals(2, claims("tomcat1").size(), "the new Tomcat's claim, after the old one expired");
        }
    }
}

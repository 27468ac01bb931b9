package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.testkit.DelayingProxy;

/**
 * Non-sticky: a memcached node that one Tomcat cannot reach for a moment while the other still can
 * (a cut between two hosts, one overloaded Tomcat's timeouts). The cut-off Tomcat writes to the backup
 * node only; the other must not go on serving the node's older copy as if nothing happened.
 */
class OneSidedOutageIT extends ClusterTest {

    @ParameterizedTest(name = "lockingMode={0}")
    @ValueSource(strings = {"none", "all"})
    void whatTheCutOffTomcatChangedIsSeenByTheOther_noIncrementLost(String lockingMode) throws Exception {
        try (DelayingProxy p1 = DelayingProxy.start(n1.port(), 0);
                DelayingProxy p2 = DelayingProxy.start(n2.port(), 0)) {
            TomcatNode[] tomcats = cutOffPair(p1, p2, lockingMode);
            Browser user = new Browser();
            String id = user.get(tomcats[0].url("/app/s/incr")).get("id");
            awaitBackupCopy(id);
            List<String> answers = new ArrayList<>();
            int expected = 1;
            for (int r = 0; r < 40; r++) {
                if (r == 6) {
                    (serverOf(id) == n1 ? p1 : p2).cut(1_500); // tomcat2 loses the session's node
                }
                int t = r % 2 == 0 ? 1 : 0;
                Browser.Page page = user.get(tomcats[t].url("/app/s/incr"));
                answers.add("tomcat" + (t + 1) + ":" + page.get("attr.counter"));
                expected++;
                assertEquals(id, page.get("id"), "same session");
                assertEquals(String.valueOf(expected), page.get("attr.counter"),
                        "request " + r + " lost an increment; answers so far: " + answers);
                Thread.sleep(100); // the cut lasts over about six requests on each Tomcat
            }
        }
    }

    @ParameterizedTest(name = "lockingMode={0}")
    @ValueSource(strings = {"none", "all"})
    void aLogoutOnTheCutOffTomcatEndsTheSessionOnTheOther(String lockingMode) throws Exception {
        try (DelayingProxy p1 = DelayingProxy.start(n1.port(), 0);
                DelayingProxy p2 = DelayingProxy.start(n2.port(), 0)) {
            TomcatNode[] tomcats = cutOffPair(p1, p2, lockingMode);
            Browser user = new Browser();
            String id = user.get(tomcats[0].url("/app/s/set?name=alice")).get("id");
            awaitBackupCopy(id);
            (serverOf(id) == n1 ? p1 : p2).cut(3_000);
            assertEquals("invalidated", user.get(tomcats[1].url("/app/s/invalidate")).body().trim());
            for (int r = 0; r < 10; r++) {
                Browser.Page page = withSession(id).get(tomcats[r % 2].url("/app/s/peek"));
                assertNull(page.get("attr.name"), "read " + r + " (tomcat" + (r % 2 + 1) + "): the logged-out"
                        + " session came back");
                Thread.sleep(100);
            }
        }
    }

    /** tomcat1 reaches both nodes directly, tomcat2 through the proxies, which the test cuts. */
    private TomcatNode[] cutOffPair(DelayingProxy p1, DelayingProxy p2, String lockingMode) {
        String[] common = {"sticky", "false", "lockingMode", lockingMode};
        Map<String, String> viaProxies = manager(common);
        viaProxies.put("memcachedNodes", p1.node("n1") + "," + p2.node("n2"));
        return new TomcatNode[] {tomcat("tomcat1", manager(common)), tomcat("tomcat2", viaProxies)};
    }
}

package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.catalina.Context;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.tomcat.MemcachedSessionManager;
import io.msm.testkit.Await;

/**
 * A webapp stopped (reload, undeploy, shutdown) while a request is still running: Tomcat stops the
 * servlets first, then the manager. What the request changes after that must still reach
 * memcached; before, the manager closed its engine at once and the change was lost without a word.
 */
class StopIT extends ClusterTest {

    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"true", "false"})
    void aChangeMadeByARequestStillRunningWhenTheWebappStopsReachesMemcached(String sticky) throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager("sticky", sticky));
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/s/set?a=1")).get("id");
        assertEquals(200, runningWhileTheWebappStops(tomcat, id, "b=2").status());

        TomcatNode other = tomcat("tomcat2", manager("sticky", sticky));
        Browser.Page page = withSession(id).get(other.url("/app/s/get"));
        assertEquals("1", page.get("attr.a"));
        assertEquals("2", page.get("attr.b"), "the change the request made while its webapp stopped");
    }

    /**
     * In a distributable webapp on Kryo, msm tells Tomcat that a value which is not Serializable can be
     * stored; a request still running while the webapp stops (a reload) must not get a 500 for
     * setting one, nor lose it.
     */
    @ParameterizedTest(name = "sticky={0}")
    @ValueSource(strings = {"true", "false"})
    void aRequestStillRunningWhenADistributableWebappOnKryoStopsMaySetWhatKryoStores(String sticky)
            throws Exception {
        String kryo = "io.msm.serializers.kryo.KryoTranscoderFactory";
        TomcatNode tomcat = tomcat("tomcat1", manager("sticky", sticky, "transcoderFactoryClass", kryo));
        tomcat.context(APP).setDistributable(true);
        String id = new Browser().get(tomcat.url("/app/s/set?a=1")).get("id");
        assertEquals(200, runningWhileTheWebappStops(tomcat, id, "memo=note").status(),
                "setAttribute of what Kryo stores");

        TomcatNode other = tomcat("tomcat2", manager("sticky", sticky, "transcoderFactoryClass", kryo));
        assertEquals("note of memo", withSession(id).get(other.url("/app/s/get")).get("attr.memo"));
    }

    /**
     * A request of the session, held at a gate, while the webapp stops: Tomcat waits for the servlet in
     * use (unloadDelay, 2 s), then stops the manager; the request then goes on with {@code query}.
     */
    private Browser.Page runningWhileTheWebappStops(TomcatNode tomcat, String id, String query) throws Exception {
        String gate = UUID.randomUUID().toString();
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            Future<Browser.Page> running = pool.submit(
                    () -> withSession(id).get(tomcat.url("/app/s/hold?gate=" + gate + "&" + query)));
            Await.until("the request to wait at its gate", WAIT, () -> SessionServlet.gate(gate).arrived.get() >= 1);
            MemcachedSessionManager manager = tomcat.manager(APP);
            Context context = tomcat.context(APP);
            Future<?> stop = pool.submit(() -> {
                context.stop();
                return null;
            });
            Await.until("the manager's stop to begin", WAIT, () -> !manager.getState().isAvailable());
            SessionServlet.gate(gate).open.countDown();
            stop.get(30, TimeUnit.SECONDS);
            return running.get(30, TimeUnit.SECONDS);
        } finally {
            SessionServlet.gate(gate).open.countDown();
            pool.shutdownNow();
        }
    }
}

package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.tools.ToolProvider;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.msm.testkit.Await;

/**
 * A rolling upgrade: the new version of the webapp stores a class the old version lacks, and a user's
 * requests meet Tomcats of both versions. The old version does not see that attribute, yet a change
 * it stores must not take it from the user: the new version finds it again.
 */
class RollingUpgradeIT extends GatedClusterTest {
    private static final String CART = "com.example.Cart";

    @TempDir
    Path dir;
    private Path newClasses;

    @BeforeEach
    void compileTheNewVersionsClass() throws IOException {
        Path src = Files.createDirectories(dir.resolve("src/com/example"));
        newClasses = Files.createDirectories(dir.resolve("classes"));
        Path file = Files.writeString(src.resolve("Cart.java"), "package com.example;\n"
                + "public class Cart implements java.io.Serializable {\n"
                + "  private static final long serialVersionUID = 1L;\n  private final String owner;\n"
                + "  public Cart(String owner) { this.owner = owner; }\n"
                + "  @Override public String toString() { return \"cart of \" + owner; }\n}\n");
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", newClasses.toString(),
                file.toString()), "javac of the new version's class");
    }

    private TomcatNode newVersion(String route, String... attributes) {
        return started(new TomcatNode(route).webapp(APP, manager(attributes)).webappClasses(APP, newClasses));
    }

    @Test
    void nonSticky_aChangeStoredByTheOldVersionKeepsWhatOnlyTheNewVersionReads() {
        TomcatNode upgraded = newVersion("tomcat1", "sticky", "false");
        TomcatNode old = tomcat("tomcat2", manager("sticky", "false"));
        Browser user = new Browser();
        Browser.Page first = user.get(upgraded.url("/app/s/instance?name=cart&class=" + CART + "&value=alice"));
        assertEquals("cart of alice", first.get("attr.cart"));

        Browser.Page onOld = user.get(old.url("/app/s/set?step=2"));
        assertEquals(200, onOld.status());
        assertNull(onOld.get("attr.cart"), "the old version cannot read it");
        assertEquals("2", onOld.get("attr.step"));

        Browser.Page back = user.get(upgraded.url("/app/s/get"));
        assertEquals("2", back.get("attr.step"), "the old version's change is stored");
        assertEquals("cart of alice", back.get("attr.cart"), "and the cart is still there");

        user.get(old.url("/app/s/remove?name=cart"));
        assertNull(user.get(upgraded.url("/app/s/get")).get("attr.cart"), "a removal there is one");
    }

    /**
     * The old version's request loaded the session before the new version changed the cart: its store
     * merges its change into the newer copy, whose cart it cannot read either, and keeps that one.
     */
    @Test
    void nonSticky_aMergeByTheOldVersionKeepsTheNewerCopysAttributeItCannotRead() throws Exception {
        // Without locks, so that the new version's request does not wait for the held one's.
        TomcatNode upgraded = newVersion("tomcat1", "sticky", "false", "lockingMode", "none");
        TomcatNode old = tomcat("tomcat2", manager("sticky", "false", "lockingMode", "none"));
        Browser user = new Browser();
        String id = user.get(upgraded.url("/app/s/instance?name=cart&class=" + CART + "&value=alice")).get("id");

        String gate = gate();
        Future<Browser.Page> held = pool.submit(() -> withSession(id).get(old.url("/app/s/hold?gate=" + gate
                + "&step=2")));
        awaitArrivals(gate, 1);
        assertEquals("cart of bob", user.get(upgraded.url("/app/s/instance?name=cart&class=" + CART + "&value=bob"))
                .get("attr.cart"));
        open(gate);
        assertEquals(200, held.get(30, TimeUnit.SECONDS).status());

        Browser.Page back = user.get(upgraded.url("/app/s/get"));
        assertEquals("2", back.get("attr.step"), "the old version's change is merged");
        assertEquals("cart of bob", back.get("attr.cart"), "into the newer copy, whose cart stays");
        assertEquals(1, count(old, io.msm.core.Statistics.Counter.NON_STICKY_STORES_MERGED));
    }

    @Test
    void sticky_aFailoverThroughTheOldVersionKeepsWhatOnlyTheNewVersionReads() {
        TomcatNode upgraded = newVersion("tomcat1");
        TomcatNode old = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String id = user.get(upgraded.url("/app/s/instance?name=cart&class=" + CART + "&value=alice")).get("id");
        awaitStored(id);
        upgraded.close(); // the next to be upgraded: its users go to a Tomcat still on the old version

        Browser.Page onOld = user.get(old.url("/app/s/set?step=2"));
        assertNull(onOld.get("attr.cart"), "the old version cannot read it");
        String takenOver = onOld.get("id");
        assertNotEquals(id, takenOver);
        Await.until("the old version's copy of " + takenOver + " stored", WAIT,
                () -> serverOf(takenOver).get(key(takenOver)) != null);

        TomcatNode upgradedAgain = newVersion("tomcat3");
        old.close(); // upgraded in its turn
        Browser.Page back = user.get(upgradedAgain.url("/app/s/get"));
        assertEquals("2", back.get("attr.step"));
        assertEquals("cart of alice", back.get("attr.cart"), "the cart survived the old version's store");
    }
}

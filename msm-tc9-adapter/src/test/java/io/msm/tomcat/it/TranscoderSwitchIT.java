package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import io.msm.core.Statistics;
import io.msm.serializers.JavaSerializationTranscoderFactory;
import io.msm.serializers.kryo.KryoTranscoderFactory;
import io.msm.testkit.Await;

/**
 * Each frame names its transcoder, and a Tomcat reads only the frames of the transcoders it is
 * configured with. A cluster changes transcoderFactoryClass one Tomcat at a time, reading the other
 * one's frames through readTranscoderFactoryClasses meanwhile. The old memcached-session-manager
 * class names are accepted for ours.
 */
class TranscoderSwitchIT extends ClusterTest {
    private static final int FRAME_TRANSCODER_BYTE = 4;
    private static final String JAVA = JavaSerializationTranscoderFactory.class.getName();
    private static final String KRYO = KryoTranscoderFactory.class.getName();

    @Test
    void sessionsStayReadableAcrossAChangeOfTranscoderInBothDirections() {
        // The switch's middle: one Tomcat still writes Java serialization, one writes Kryo already.
        TomcatNode java = tomcat("tomcat1", manager("transcoderFactoryClass", JAVA,
                "readTranscoderFactoryClasses", KRYO));
        TomcatNode kryo = tomcat("tomcat2", manager("transcoderFactoryClass", KRYO,
                "readTranscoderFactoryClasses", JAVA));
        TomcatNode javaAgain = tomcat("tomcat3", manager("readTranscoderFactoryClasses",
                "de.javakaffee.web.msm.serializer.kryo.KryoTranscoderFactory"));
        Browser user = new Browser();

        String first = user.get(java.url("/app/s/set?name=alice&step=1")).get("id");
        awaitStored(first);
        assertEquals(1, serverOf(first).get(key(first))[FRAME_TRANSCODER_BYTE], "written by Java serialization");

        Browser.Page onKryo = user.get(kryo.url("/app/s/set?step=2"));
        assertEquals("alice", onKryo.get("attr.name"), "a Java frame read by a Tomcat on Kryo");
        String second = onKryo.get("id");
        awaitStored(second);
        assertEquals(2, serverOf(second).get(key(second))[FRAME_TRANSCODER_BYTE], "written by Kryo");

        Browser.Page onJava = user.get(javaAgain.url("/app/s/get"));
        assertEquals("alice", onJava.get("attr.name"), "a Kryo frame read by a Tomcat on Java serialization");
        assertEquals("2", onJava.get("attr.step"));
    }

    /**
     * In a webapp marked {@code <distributable/>}, Tomcat asks the session whether a value can be
     * stored, and refuses setAttribute (an exception, a 500) when it cannot. With Kryo, a webapp's
     * object that is not Serializable can: it is accepted, stored, and read by another Tomcat.
     * Java serialization cannot store it, and Tomcat refuses it as with its own manager.
     */
    @Test
    void aDistributableWebappOnKryoStoresItsObjectsThatAreNotSerializable() {
        TomcatNode kryo = tomcat("tomcat1", manager("transcoderFactoryClass", KRYO));
        TomcatNode kryo2 = tomcat("tomcat2", manager("transcoderFactoryClass", KRYO));
        TomcatNode java = tomcat("tomcat3", manager());
        for (TomcatNode t : new TomcatNode[] {kryo, kryo2, java}) {
            t.context(APP).setDistributable(true);
        }
        Browser user = new Browser();
        Browser.Page set = user.get(kryo.url("/app/s/set?name=alice&memo=note"));
        assertEquals(200, set.status());
        awaitStored(set.get("id"));
        assertEquals("note of memo", user.get(kryo2.url("/app/s/get")).get("attr.memo"), "stored, and read elsewhere");

        assertEquals(500, new Browser().get(java.url("/app/s/set?memo=note")).status(),
                "Tomcat refuses what Java serialization cannot store");
    }

    /**
     * Without readTranscoderFactoryClasses a Tomcat on Java serialization never hands a Kryo frame to
     * Kryo: bytes anyone planted in memcached meet the one deserializer configured. The user gets a new
     * session, and the WARN says what to write while a cluster switches.
     */
    @Test
    void aFrameOfATranscoderNotConfiguredIsRefusedUnreadAndTheLogNamesTheAttribute() {
        TomcatNode kryo = tomcat("tomcat1", manager("transcoderFactoryClass", KRYO));
        TomcatNode java = tomcat("tomcat2", manager());
        Browser user = new Browser();
        String written = user.get(kryo.url("/app/s/set?name=alice")).get("id");
        awaitStored(written);
        assertEquals(2, serverOf(written).get(key(written))[FRAME_TRANSCODER_BYTE], "written by Kryo");

        Browser.Page onJava;
        try (LogCapture log = new LogCapture("io.msm")) {
            onJava = user.get(java.url("/app/s/set?step=2"));
            List<String> refused = log.lines(r -> r.getLevel() == Level.WARNING
                    && String.valueOf(r.getMessage()).contains("does not decode"));
            assertEquals(1, refused.size(), "one WARN for the refused frame: " + log.lines());
            assertTrue(refused.get(0).contains("transcoder id 2") && refused.get(0).contains(
                    "readTranscoderFactoryClasses"), refused.get(0));
            assertFalse(refused.get(0).contains(written), "the session id is masked: " + refused.get(0));
        }
        assertNull(onJava.get("attr.name"), "the Kryo frame was not read");
        assertNotEquals(written, onJava.get("id"), "a new session");
        assertEquals(1L, count(java, Statistics.Counter.UNDECODABLE_SESSIONS));
    }

    /** The principal of a FORM login (Tomcat's GenericPrincipal) written by Kryo, read by Java serialization. */
    @Test
    void aLoginWrittenByKryoIsReadAfterAFailoverToATomcatOnJavaSerialization() {
        TomcatNode kryo = started(new TomcatNode("tomcat1").webapp(APP, manager("transcoderFactoryClass",
                KRYO), "FORM"));
        TomcatNode java = started(new TomcatNode("tomcat2").webapp(APP, manager("readTranscoderFactoryClasses", KRYO),
                "FORM"));
        Browser user = new Browser();
        user.get(kryo.url("/app/secure/get"));
        assertEquals(303, user.postForm(kryo.url("/app/j_security_check"), "j_username=alice&j_password=secret")
                .status());
        assertEquals("alice", user.get(kryo.url("/app/secure/get")).get("user"));
        Await.until("the principal stored by Kryo", WAIT, () -> kryo.manager(APP).findSessions().length == 1
                && kryo.manager(APP).findSessions()[0].getPrincipal() != null
                && serverOf(user.sessionId()).get(key(user.sessionId())) != null);

        kryo.close();
        Browser.Page after = user.get(java.url("/app/secure/get"));
        assertEquals("alice", after.get("user"), "still logged in, no login form");
    }

    @Test
    void theOlderManagersClassNamesAreAcceptedForOurs() {
        String oldKryo = "de.javakaffee.web.msm.serializer.kryo.KryoTranscoderFactory";
        String oldJava = "de.javakaffee.web.msm.JavaSerializationTranscoderFactory";
        // The operator is told which of our names to write instead: an INFO line of msm's Tomcat glue.
        List<String> lines = new CopyOnWriteArrayList<>();
        Logger glue = Logger.getLogger("io.msm.tomcat");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.INFO.intValue()) {
                    lines.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        TomcatNode tomcat;
        TomcatNode other;
        glue.addHandler(capture);
        try {
            tomcat = tomcat("tomcat1", manager("transcoderFactoryClass", oldKryo));
            other = tomcat("tomcat2", manager("transcoderFactoryClass", oldJava));
        } finally {
            glue.removeHandler(capture);
        }
        assertAliasLine(lines, oldKryo, KryoTranscoderFactory.class.getName());
        assertAliasLine(lines, oldJava, JavaSerializationTranscoderFactory.class.getName());
        Browser user = new Browser();
        String id = user.get(tomcat.url("/app/s/set?name=alice")).get("id");
        awaitStored(id);
        assertEquals(2, serverOf(id).get(key(id))[FRAME_TRANSCODER_BYTE], "the alias chose Kryo");

        String id2 = new Browser().get(other.url("/app/s/set?name=bob")).get("id");
        awaitStored(id2);
        assertEquals(1, serverOf(id2).get(key(id2))[FRAME_TRANSCODER_BYTE], "the alias chose Java serialization");
    }

    private static void assertAliasLine(List<String> lines, String oldName, String ours) {
        List<String> naming = lines.stream().filter(l -> l.contains("'" + oldName + "'")).toList();
        assertEquals(1, naming.size(), "one line names " + oldName + ": " + lines);
        assertTrue(naming.get(0).contains("msm uses " + ours + " instead"), naming.get(0));
    }
}

package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.SessionContent;
import io.msm.core.Statistics.Counter;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderFactory;
import io.msm.serializers.Gadgets;
import io.msm.serializers.Transcoding;

/**
 * Memcached has no authentication by default: whoever reaches it can plant a session. A planted
 * commons-collections gadget chain, in msm's own frame format, is refused by a Tomcat with the
 * default configuration, the chain never runs, and the request gets a fresh session.
 */
class GadgetPayloadIT extends ClusterTest {
    static Stream<TranscoderFactory> transcoders() {
        return Transcoding.both();
    }

    @AfterEach
    void clear() {
        System.clearProperty(Gadgets.FIRED);
    }

    @ParameterizedTest
    @MethodSource("transcoders")
    void aPlantedGadgetChainIsRefusedAndTheRequestGetsAFreshSession(TranscoderFactory f) {
        TomcatNode tomcat = tomcat("tomcat1", manager("transcoderFactoryClass", f.getClass().getName()));
        String planted = plant(f, "CAFE0001000000000000000000000000");

        Browser user = new Browser();
        user.sessionId(planted);
        Browser.Page page;
        List<String> log;
        try (Transcoding.Warnings warnings = Transcoding.Warnings.capture("io.msm")) {
            page = user.get(tomcat.url("/app/s/get"));
            log = warnings.messages();
        }
        assertEquals(200, page.status());
        assertNotEquals(planted, page.get("id"), "a fresh session replaces the planted one");
        assertNull(page.get("attr.user"), "nothing of the planted session is served");
        assertFalse(Gadgets.fired(), "the chain did not run");
        assertEquals(1, count(tomcat, Counter.UNDECODABLE_SESSIONS));
        assertTrue(log.stream().anyMatch(l -> l.contains("not allowed by serialFilter")
                && l.contains("org.apache.commons.collections.")), "the log names the refused class: " + log);
    }

    /** The control: the same bytes do run in a Tomcat whose operator switched the gadget list off. */
    @ParameterizedTest
    @MethodSource("transcoders")
    void theSamePlantedChainRunsWhereTheGadgetListIsSwitchedOff(TranscoderFactory f) {
        TomcatNode tomcat = tomcat("tomcat1", manager("transcoderFactoryClass", f.getClass().getName(),
                "serialFilter", "*;@gadgets"));
        String planted = plant(f, "CAFE0002000000000000000000000000");
        Browser user = new Browser();
        user.sessionId(planted);
        assertEquals(200, user.get(tomcat.url("/app/s/get")).status());
        assertTrue(Gadgets.fired(), "the planted chain is live, so the test above proves something");
    }

    /** Writes a session under a made-up id on n1, as an attacker with access to memcached would. */
    private String plant(TranscoderFactory f, String random) {
        Transcoder attacker = Transcoding.create(f, getClass().getClassLoader(), "*;@gadgets", false);
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("user", "mallory");
        attrs.put("cart", Gadgets.chainFor(Transcoding.name(f)));
        byte[] payload = attacker.encode(new SessionContent(attrs, null));
        System.clearProperty(Gadgets.FIRED);
        String id = random + "-n1.tomcat1";
        n1.set(key(id), frame(attacker.id(), payload), 600);
        return id;
    }

    /** msm's frame, written from its documented layout (see SessionFrame). */
    static byte[] frame(int transcoderId, byte[] payload) {
        long now = System.currentTimeMillis();
        CRC32 crc = new CRC32();
        crc.update(payload, 0, payload.length);
        return ByteBuffer.allocate(35 + payload.length).put((byte) 'm').put((byte) 's').put((byte) 1).put((byte) 0)
                .put((byte) transcoderId).putLong(now).putLong(now).putInt(1800).putShort((short) 0xFFFF)
                .putInt(payload.length).putInt((int) crc.getValue()).put(payload).array();
    }
}

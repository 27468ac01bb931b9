package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderFactory;

/**
 * An array the reader would refuse (over maxarray) is left out when written, naming its attribute:
 * written and refused only when read, it would cost the user the whole session at a failover.
 */
class ArrayLimitOnWriteTest {
    @ParameterizedTest
    @MethodSource("io.msm.serializers.Transcoding#both")
    void anArrayOverMaxarrayLeavesOnlyItsAttributeOut(TranscoderFactory f) throws Exception {
        Transcoder t = Transcoding.create(f);
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("user", "alice");
        attributes.put("scan", new byte[SerialFilter.DEFAULT_MAX_ARRAY + 1]);
        attributes.put("ids", new long[SerialFilter.DEFAULT_MAX_ARRAY + 1]);
        attributes.put("fits", new byte[SerialFilter.DEFAULT_MAX_ARRAY]);

        Map<String, Object> read;
        try (Transcoding.Warnings log = Transcoding.Warnings.capture()) {
            read = t.decode(t.encode(new SessionContent(attributes, null))).attributes();
            assertTrue(log.messages().stream().anyMatch(m -> m.contains("'scan'") && m.contains("maxarray")),
                    log.messages().toString());
        }
        assertEquals("alice", read.get("user"), "the rest of the session is kept");
        assertEquals(SerialFilter.DEFAULT_MAX_ARRAY, ((byte[]) read.get("fits")).length);
        assertFalse(read.containsKey("scan"));
        assertFalse(read.containsKey("ids"));
    }
}

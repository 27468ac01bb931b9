package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.msm.serializers.JavaSerializationTranscoderFactory;
import io.msm.serializers.Transcoding;
import io.msm.serializers.kryo.KryoTranscoderFactory;

/** A malformed serialFilter stops the webapp at start with a message saying what to write. */
class SerialFilterConfigIT extends ClusterTest {
    @ParameterizedTest
    @ValueSource(classes = {JavaSerializationTranscoderFactory.class, KryoTranscoderFactory.class})
    void aMalformedSerialFilterStopsTheWebappNamingTheEntry(Class<?> factory) {
        String failure;
        TomcatNode tomcat;
        try (Transcoding.Warnings log = Transcoding.Warnings.capture("org.apache.catalina.core.StandardContext")) {
            tomcat = tomcat("tomcat1", manager("transcoderFactoryClass", factory.getName(),
                    "serialFilter", "org.nrg.**;com..example.*"));
            failure = log.thrown();
        }
        assertFalse(tomcat.isAvailable(APP), "the webapp must not start");
        for (String part : List.of("serialFilter", "'com..example.*'", "com.example.**")) {
            assertTrue(failure.contains(part), "names " + part + ":\n" + failure);
        }
        assertEquals(404, new Browser().get(tomcat.url("/app/s/get")).status());
    }
}

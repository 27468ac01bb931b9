package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.msm.serializers.Transcoding;

/** An attribute that does nothing in the chosen mode is named at start, in one WARN, and the webapp runs. */
class AttributesWithoutEffectIT extends ClusterTest {
    @Test
    void sessionBackupAsyncWithStickyFalseIsNamedInOneWarning() {
        TomcatNode tomcat;
        List<String> warnings;
        try (Transcoding.Warnings log = Transcoding.Warnings.capture("io.msm.tomcat")) {
            tomcat = tomcat("tomcat1", manager("sticky", "false", "sessionBackupAsync", "false",
                    "sessionBackupTimeout", "500"));
            warnings = log.messages();
        }
        assertTrue(tomcat.isAvailable(APP), "the webapp starts");
        List<String> named = warnings.stream().filter(m -> m.contains("no effect")).toList();
        assertEquals(1, named.size(), "one line: " + warnings);
        for (String part : List.of("sessionBackupAsync", "sticky=\"false\"", APP)) {
            assertTrue(named.get(0).contains(part), "names " + part + ": " + named.get(0));
        }
        assertTrue(!named.get(0).contains("sessionBackupTimeout"), "it bounds the wait for the backup copy: "
                + named.get(0));
    }
}

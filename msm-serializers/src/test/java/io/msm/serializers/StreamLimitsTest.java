package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * On a Java 8 older than 8u121 there is no stream filter, and the checks msm makes while a session
 * is read drop out; that must be said, not silent. The tests run on a JDK that has the filter, so
 * the warning's text is checked for such a JVM, and the filter's presence for this one.
 */
class StreamLimitsTest {

    @Test
    void aJvmWithoutStreamFiltersIsNamedWithWhatIsOffAndWhatToDo() {
        String warning = StreamLimits.missing(false, "1.8.0_112");
        assertNotNull(warning);
        for (String part : new String[] {"serialFilter", "1.8.0_112", "JEP 290", "maxdepth", "maxarray", "maxmillis",
            "jdk.serialFilter", "Update Java to 8u121"}) {
            assertTrue(warning.contains(part), "the warning names " + part + ": " + warning);
        }
    }

    @Test
    void thisJvmHasTheStreamFilterSoNothingIsSaid() {
        assertNull(StreamLimits.missing(true, "17"));
        assertNotNull(StreamLimits.create(SerialFilter.builtIn(), DecodeGuard.start(SerialFilter.builtIn())),
                "this JDK's stream filter is found and used");
    }
}

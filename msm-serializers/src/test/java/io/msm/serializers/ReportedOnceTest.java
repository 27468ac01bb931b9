package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Names planted in memcached neither grow the heap nor forge log lines. */
class ReportedOnceTest {
    @Test
    void eachProblemOnce_andNoMoreThanTheBoundOfDifferentOnes() {
        ReportedOnce reported = new ReportedOnce(LoggerFactory.getLogger(ReportedOnceTest.class));
        assertTrue(reported.first("read/a"));
        assertFalse(reported.first("read/a"));
        int logged = 1;
        for (int i = 0; i < 5 * ReportedOnce.MAX_KEYS; i++) {
            logged += reported.first("read/a" + i) ? 1 : 0;
        }
        assertEquals(ReportedOnce.MAX_KEYS, logged);
    }

    @Test
    void aNameFromMemcachedIsOneShortLine() {
        assertEquals("a\\u000aINFO forged", ReportedOnce.printable("a\nINFO forged"));
        assertEquals(103, ReportedOnce.printable("x".repeat(5000)).length());
        assertEquals("x".repeat(100), ReportedOnce.printable("x".repeat(100)));
        assertEquals("xx...", ReportedOnce.printable("xxx", 2));
    }
}

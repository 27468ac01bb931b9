package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** memcached reads an expiry beyond 30 days as a Unix time: the grace must not push a relative one past it. */
class ExpiryTest {
    private static final int THIRTY_DAYS = 30 * 24 * 3600;
    private final FakeTime time = new FakeTime(1_700_000_000_000L);
    private final Expiry expiry = new Expiry(time);

    @Test
    void aTimeoutJustUnderThirtyDaysGivesAnAbsoluteExpiryOnceItsGraceIsAdded() {
        int timeout = THIRTY_DAYS - 100; // a copy lives 60 s longer, then the grace
        long nowSeconds = time.millis() / 1000;
        assertEquals(THIRTY_DAYS - 40, expiry.sticky(timeout), "still relative");
        assertEquals(nowSeconds + THIRTY_DAYS - 40 + Expiry.GRACE_SECONDS, expiry.nonSticky(timeout));
        assertEquals(nowSeconds + THIRTY_DAYS - 40 + 2 * Expiry.GRACE_SECONDS, expiry.removalMarker(timeout));
    }

    @Test
    void usualTimeoutsStayRelativeAndZeroMeansNever() {
        assertEquals(1800 + 60 + Expiry.GRACE_SECONDS, expiry.nonSticky(1800));
        assertEquals(1800 + 60 + 2 * Expiry.GRACE_SECONDS, expiry.removalMarker(1800));
        assertEquals(0, expiry.nonSticky(0));
        assertEquals(0, expiry.removalMarker(-1));
        assertTrue(expiry.sticky(1800) < THIRTY_DAYS);
    }
}

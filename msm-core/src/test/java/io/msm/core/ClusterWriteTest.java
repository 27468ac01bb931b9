package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** A newer background write for a non-sticky session absorbs the waiting one without losing what it carried. */
class ClusterWriteTest {
    private static final SessionId S = SessionId.parse("s-n1");
    private static final SessionId R = SessionId.parse("r-n1");
    private static final byte[] OLD_VALIDITY = {1};
    private static final byte[] NEW_VALIDITY = {2};

    @Test
    void aReadAfterAStoreStillDeletesTheFormerId() {
        ClusterWrite store = ClusterWrite.stored(S, 60, OLD_VALIDITY, R, w -> { });
        ClusterWrite read = ClusterWrite.accessed(S, 60, NEW_VALIDITY, false, w -> { });
        ClusterWrite merged = (ClusterWrite) read.absorb(store);
        assertArrayEquals(NEW_VALIDITY, merged.validity, "the latest access");
        assertEquals(Arrays.asList(R), Arrays.asList(merged.formerIds.toArray()), "the former id is still deleted");
    }

    @Test
    void aNewerStoreKeepsItsOwnValidityAndTheOlderTouch() {
        ClusterWrite read = ClusterWrite.accessed(S, 60, OLD_VALIDITY, true, w -> { });
        ClusterWrite merged = (ClusterWrite) ClusterWrite.stored(S, 60, NEW_VALIDITY, null, w -> { })
                .absorb(read);
        assertArrayEquals(NEW_VALIDITY, merged.validity);
        assertTrue(merged.touchData);
    }

    @Test
    void aStoreThatLeavesTheValidityRecordAloneStillWritesTheWaitingOne() {
        ClusterWrite read = ClusterWrite.accessed(S, 60, OLD_VALIDITY, false, w -> { });
        ClusterWrite merged = (ClusterWrite) ClusterWrite.stored(S, 60, null, null, w -> { }).absorb(read);
        assertArrayEquals(OLD_VALIDITY, merged.validity);
        assertTrue(!merged.removes());
    }

    @Test
    void aRemovalAbsorbsEverythingAndWritesNothing() {
        ClusterWrite store = ClusterWrite.stored(S, 60, OLD_VALIDITY, R, w -> { });
        ClusterWrite removal = ClusterWrite.removed(S, null, 60, w -> { });
        ClusterWrite merged = (ClusterWrite) removal.absorb(store);
        assertSame(removal, merged);
        assertTrue(merged.removes());
        assertTrue(merged.formerIds.contains(R));
    }

    @Test
    void aWaitingRemovalIsNotReplacedByALateStoreOfTheSameId() {
        ClusterWrite removal = ClusterWrite.removed(S, null, 60, w -> { });
        ClusterWrite lateStore = ClusterWrite.stored(S, 60, NEW_VALIDITY, R, w -> { });
        ClusterWrite merged = (ClusterWrite) lateStore.absorb(removal);
        assertSame(removal, merged, "the session's keys are still deleted and its marker written");
        assertTrue(merged.validity == null, "nothing of the dead session is written");
        assertTrue(merged.formerIds.contains(R));
    }

    @Test
    void theValidityRecordNeverExpiresEarlyAndLateByLessThanItsGrace() {
        int timeout = 1800;
        long lastAccess = 1_000_000L;
        ValidityRecord v = new ValidityRecord(lastAccess, timeout, 0);
        assertEquals(60_000L, ValidityRecord.graceMillis(timeout));
        assertEquals(300L, ValidityRecord.graceMillis(3));
        assertTrue(!v.isExpired(lastAccess + timeout * 1000L), "not before its timeout");
        assertTrue(!v.isExpired(lastAccess + timeout * 1000L + 59_999L), "the grace");
        assertTrue(v.isExpired(lastAccess + timeout * 1000L + 60_001L));
        assertTrue(!new ValidityRecord(lastAccess, 0, 0).isExpired(Long.MAX_VALUE - 1), "timeout 0: never");
    }
}

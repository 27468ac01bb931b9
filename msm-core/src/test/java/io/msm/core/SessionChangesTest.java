package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * The record a merge applies to a newer copy: the last of a set and a removal of one name wins. A
 * store of a session that parallel requests still use takes it while they go on recording: nothing
 * may be lost between, and a failed store gives it back.
 */
class SessionChangesTest {
    @Test
    void theLastOfASetAndARemovalOfOneNameIsWhatCounts() {
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("cart");
        changes.attributeRemoved("cart");
        changes.attributeRemoved("theme");
        changes.attributeSet("theme");
        changes.attributeSet("form");

        assertEquals(Set.of("theme", "form"), changes.set());
        assertEquals(Set.of("cart"), changes.removed());
        assertFalse(changes.isEmpty());
    }

    @Test
    void clearedItIsEmptyAndCountsAgainFromNothing() {
        SessionChanges changes = new SessionChanges();
        assertTrue(changes.isEmpty());
        changes.attributeSet("cart");
        changes.principalChanged();
        changes.maxInactiveChanged();
        changes.clear();

        assertTrue(changes.isEmpty());
        assertEquals(Set.of(), changes.set());
        assertEquals(Set.of(), changes.removed());
        assertFalse(changes.isPrincipalChanged());
        assertFalse(changes.isMaxInactiveChanged());

        changes.attributeRemoved("cart");
        assertEquals(Set.of("cart"), changes.removed());
        changes.clear();
        changes.maxInactiveChanged();
        assertFalse(changes.isEmpty()); // a timeout change alone is a change
    }

    @Test
    void whatIsRecordedAfterTakingIsInTheNextTake_andTheCountNeverGoesBack() {
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("form");
        changes.principalChanged();
        long before = changes.recorded();

        SessionChanges taken = changes.takeAll();
        changes.attributeRemoved("cart");

        assertEquals(Set.of("form"), taken.set());
        assertTrue(taken.isPrincipalChanged());
        assertEquals(Set.of("cart"), changes.removed());
        assertTrue(changes.set().isEmpty());
        assertFalse(changes.isPrincipalChanged(), "taken, not recorded again since");
        assertEquals(before + 1, changes.recorded(), "a request that began before the take still sees a change");
    }

    @Test
    void aFailedStoreGivesItsChangesBack_withoutUndoingWhatWasRecordedSince() {
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("form");
        changes.attributeSet("cart");
        changes.maxInactiveChanged();
        SessionChanges taken = changes.takeAll();
        changes.attributeRemoved("cart"); // after the take: newer than what is given back

        changes.putBack(taken);

        assertEquals(Set.of("form"), changes.set());
        assertEquals(Set.of("cart"), changes.removed());
        assertTrue(changes.isMaxInactiveChanged());
    }
}

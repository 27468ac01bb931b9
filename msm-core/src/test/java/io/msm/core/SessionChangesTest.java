package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * The record a merge applies to a newer copy: the last of a set and a removal of one name wins. A
 * store of a session that parallel requests still use copies it while they go on recording.
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

    /** After a store that reached the session's node, a merge applies only what came after it. */
    @Test
    void whatWasRecordedAfterACountIsWhatAStoreAfterItApplies() {
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("form");
        changes.attributeRemoved("cart");
        changes.principalChanged();
        long stored = changes.recorded();
        changes.attributeSet("note");
        changes.attributeRemoved("theme");
        changes.attributeSet("cart");

        assertEquals(Set.of("note", "cart"), changes.set(stored));
        assertEquals(Set.of("theme"), changes.removed(stored));
        assertFalse(changes.isPrincipalChanged(stored));
        assertFalse(changes.isMaxInactiveChanged(stored));
        changes.maxInactiveChanged();
        assertTrue(changes.isMaxInactiveChanged(stored));
        assertEquals(Set.of("form", "note", "cart"), changes.set(0));
        assertEquals(Set.of("theme"), changes.removed(0));
        assertTrue(changes.isPrincipalChanged(0));
        SessionChanges copy = changes.copy();
        assertEquals(Set.of("note", "cart"), copy.set(stored), "a copy keeps the counts");
        assertTrue(copy.isMaxInactiveChanged(stored));
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
    void aCopyForAStoreWhileRequestsRunLeavesEverythingForTheLastStore_andTheCountNeverGoesBack() {
        SessionChanges changes = new SessionChanges();
        changes.attributeSet("form");
        changes.principalChanged();

        SessionChanges copy = changes.copy();
        long atCopy = changes.recorded();
        changes.attributeRemoved("cart");

        assertEquals(Set.of("form"), copy.set());
        assertTrue(copy.removed().isEmpty(), "recorded after the copy");
        assertTrue(copy.isPrincipalChanged());
        assertEquals(Set.of("form"), changes.set(), "kept: a later merge applies it again");
        assertEquals(Set.of("cart"), changes.removed());
        assertEquals(atCopy + 1, changes.recorded());
        changes.clear();
        assertEquals(atCopy + 1, changes.recorded(), "a request that began before the clear still sees a change");
    }
}

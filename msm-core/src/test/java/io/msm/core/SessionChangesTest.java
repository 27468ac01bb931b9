package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;

import org.junit.jupiter.api.Test;

/** The record a merge applies to a newer copy: the last of a set and a removal of one name wins. */
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
}

package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Sync mode's kept bytes stay within their bound: the sessions used least recently give theirs up. */
class KeptBlocksTest {
    private static SessionState withBlocks() {
        SessionState s = new SessionState();
        s.blocks = new EncodedBlocks();
        return s;
    }

    @Test
    void beyondTheCountTheSessionUsedLeastRecentlyDropsItsBytes() {
        KeptBlocks kept = new KeptBlocks(2, Long.MAX_VALUE);
        SessionState a = withBlocks();
        SessionState b = withBlocks();
        SessionState c = withBlocks();
        kept.used(a, 100);
        kept.used(b, 100);
        kept.used(a, 100); // a is used again: b is now the eldest
        kept.used(c, 100);

        assertNotNull(a.blocks);
        assertNull(b.blocks);
        assertNotNull(c.blocks);
        assertEquals(2, kept.size());
    }

    @Test
    void beyondTheWeightAsManyDropTheirsAsItTakes() {
        KeptBlocks kept = new KeptBlocks(100, 1_000);
        SessionState a = withBlocks();
        SessionState b = withBlocks();
        SessionState large = withBlocks();
        kept.used(a, 200); // weighs 400
        kept.used(b, 200);
        kept.used(large, 450); // 900: both others go

        assertNull(a.blocks);
        assertNull(b.blocks);
        assertNotNull(large.blocks);
        kept.used(large, 600); // grew past the bound on its own: it goes too
        assertNull(large.blocks);
        assertEquals(0, kept.size());
    }

    @Test
    void anEndedSessionIsForgottenAndNotKeptAgainByALateEncode() {
        KeptBlocks kept = new KeptBlocks(2, Long.MAX_VALUE);
        SessionState ended = withBlocks();
        kept.used(ended, 100);
        ended.removed = true;
        kept.forget(ended);
        kept.used(ended, 100); // an encode that was running when it ended

        assertEquals(0, kept.size());
        assertNull(ended.blocks);
        SessionState a = withBlocks();
        SessionState b = withBlocks();
        kept.used(a, 100);
        kept.used(b, 100);
        assertNotNull(a.blocks, "the ended session takes no place of the two");
    }
}

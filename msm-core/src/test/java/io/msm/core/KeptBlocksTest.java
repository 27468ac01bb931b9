package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Kept bytes stay within their bounds: the sessions used least recently, or idle too long, give theirs up. */
class KeptBlocksTest {
    private static SessionState withBlocks() {
        SessionState s = new SessionState();
        s.blocks = new EncodedBlocks();
        s.blocks.keep(new Object(), 0, 0); // what an encode keeps
        return s;
    }

    @Test
    void beyondTheCountTheSessionUsedLeastRecentlyDropsItsBytes() {
        KeptBlocks kept = new KeptBlocks(2, Long.MAX_VALUE, Long.MAX_VALUE);
        SessionState a = withBlocks();
        SessionState b = withBlocks();
        SessionState c = withBlocks();
        kept.used(a, a.blocks, 100, 0);
        kept.used(b, b.blocks, 100, 0);
        kept.used(a, a.blocks, 100, 0); // a is used again: b is now the eldest
        kept.used(c, c.blocks, 100, 0);

        assertNotNull(a.blocks);
        assertNull(b.blocks);
        assertNotNull(c.blocks);
        assertEquals(2, kept.size());
    }

    @Test
    void beyondTheWeightAsManyDropTheirsAsItTakes() {
        KeptBlocks kept = new KeptBlocks(100, 1_000, Long.MAX_VALUE);
        SessionState a = withBlocks();
        SessionState b = withBlocks();
        SessionState large = withBlocks();
        kept.used(a, a.blocks, 200, 0); // weighs 400
        kept.used(b, b.blocks, 200, 0);
        kept.used(large, large.blocks, 450, 0); // 900: both others go

        assertNull(a.blocks);
        assertNull(b.blocks);
        assertNotNull(large.blocks);
        kept.used(large, large.blocks, 600, 0); // grew past the bound on its own: it goes too
        assertNull(large.blocks);
        assertEquals(0, kept.size());
    }

    @Test
    void anEndedSessionIsForgottenAndNotKeptAgainByALateEncode() {
        KeptBlocks kept = new KeptBlocks(2, Long.MAX_VALUE, Long.MAX_VALUE);
        SessionState ended = withBlocks();
        EncodedBlocks blocksOfEnded = ended.blocks;
        kept.used(ended, blocksOfEnded, 100, 0);
        ended.removed = true;
        kept.forget(ended);
        kept.used(ended, blocksOfEnded, 100, 0); // an encode that was running when it ended

        assertEquals(0, kept.size());
        assertNull(ended.blocks);
        SessionState a = withBlocks();
        SessionState b = withBlocks();
        kept.used(a, a.blocks, 100, 0);
        kept.used(b, b.blocks, 100, 0);
        assertNotNull(a.blocks, "the ended session takes no place of the two");
    }

    @Test
    void aSessionIdleLongerThanTheLimitGivesItsBytesUpAtTheNextUseOfAnother() {
        KeptBlocks kept = new KeptBlocks(100, Long.MAX_VALUE, 10_000);
        SessionState idle = withBlocks();
        SessionState busy = withBlocks();
        kept.used(idle, idle.blocks, 100, 0);
        kept.used(busy, busy.blocks, 100, 5_000);
        kept.used(busy, busy.blocks, 100, 10_000); // idle was used 10 s ago: not longer than the limit yet
        assertNotNull(idle.blocks);

        kept.used(busy, busy.blocks, 100, 10_001);
        assertNull(idle.blocks);
        assertNotNull(busy.blocks, "the session in use keeps its bytes");
        assertEquals(1, kept.size());
        kept.used(busy, busy.blocks, 100, 30_000); // idle itself for 20 s, then used: it keeps them
        assertNotNull(busy.blocks);
    }

    @Test
    void idleSessionsGiveTheirBytesUpWhenAskedAlsoWithoutAnotherUse() {
        KeptBlocks kept = new KeptBlocks(100, Long.MAX_VALUE, 10_000);
        SessionState idle = withBlocks();
        kept.used(idle, idle.blocks, 100, 0);
        kept.dropIdle(10_000);
        assertNotNull(idle.blocks);
        kept.dropIdle(10_001);
        assertNull(idle.blocks);
        assertEquals(0, kept.size());
    }

    @Test
    void anEncodeWhoseBytesWerePushedOutMeanwhileIsNotCounted() {
        KeptBlocks kept = new KeptBlocks(1, Long.MAX_VALUE, Long.MAX_VALUE);
        SessionState a = withBlocks();
        EncodedBlocks encodingWith = a.blocks;
        SessionState b = withBlocks();
        kept.used(b, b.blocks, 100, 0);
        a.blocks = null; // pushed out while its encode ran
        kept.used(a, encodingWith, 100, 0);

        assertNull(a.blocks);
        assertNotNull(b.blocks, "the session that keeps bytes keeps its place");
        assertEquals(1, kept.size());
    }

    @Test
    void aSessionThatKeptNothingTakesNoPlace() {
        KeptBlocks kept = new KeptBlocks(1, Long.MAX_VALUE, Long.MAX_VALUE);
        SessionState a = withBlocks();
        kept.used(a, a.blocks, 100, 0);
        SessionState tooLarge = new SessionState();
        tooLarge.blocks = new EncodedBlocks(); // its encode kept no second copy
        kept.used(tooLarge, tooLarge.blocks, 300_000, 0);

        assertNotNull(a.blocks, "not pushed out by a session that keeps nothing");
        assertNull(tooLarge.blocks);
        assertEquals(1, kept.size());
    }
}

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
        return s;
    }

    @Test
    void beyondTheCountTheSessionUsedLeastRecentlyDropsItsBytes() {
        KeptBlocks kept = new KeptBlocks(2, Long.MAX_VALUE, Long.MAX_VALUE);
        SessionState a = withBlocks();
        SessionState b = withBlocks();
        SessionState c = withBlocks();
        kept.used(a, 100, 0);
        kept.used(b, 100, 0);
        kept.used(a, 100, 0); // a is used again: b is now the eldest
        kept.used(c, 100, 0);

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
        kept.used(a, 200, 0); // weighs 400
        kept.used(b, 200, 0);
        kept.used(large, 450, 0); // 900: both others go

        assertNull(a.blocks);
        assertNull(b.blocks);
        assertNotNull(large.blocks);
        kept.used(large, 600, 0); // grew past the bound on its own: it goes too
        assertNull(large.blocks);
        assertEquals(0, kept.size());
    }

    @Test
    void anEndedSessionIsForgottenAndNotKeptAgainByALateEncode() {
        KeptBlocks kept = new KeptBlocks(2, Long.MAX_VALUE, Long.MAX_VALUE);
        SessionState ended = withBlocks();
        kept.used(ended, 100, 0);
        ended.removed = true;
        kept.forget(ended);
        kept.used(ended, 100, 0); // an encode that was running when it ended

        assertEquals(0, kept.size());
        assertNull(ended.blocks);
        SessionState a = withBlocks();
        SessionState b = withBlocks();
        kept.used(a, 100, 0);
        kept.used(b, 100, 0);
        assertNotNull(a.blocks, "the ended session takes no place of the two");
    }

    @Test
    void aSessionIdleLongerThanTheLimitGivesItsBytesUpAtTheNextUseOfAnother() {
        KeptBlocks kept = new KeptBlocks(100, Long.MAX_VALUE, 10_000);
        SessionState idle = withBlocks();
        SessionState busy = withBlocks();
        kept.used(idle, 100, 0);
        kept.used(busy, 100, 5_000);
        kept.used(busy, 100, 10_000); // idle was used 10 s ago: not longer than the limit yet
        assertNotNull(idle.blocks);

        kept.used(busy, 100, 10_001);
        assertNull(idle.blocks);
        assertNotNull(busy.blocks, "the session in use keeps its bytes");
        assertEquals(1, kept.size());
        kept.used(busy, 100, 30_000); // idle itself for 20 s, then used: it keeps them
        assertNotNull(busy.blocks);
    }
}

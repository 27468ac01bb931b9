package io.msm.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Without memcached the tests cannot mean anything: they fail and say how to get it, never skip.
 * A paused node must really hang, or the tests of a hung node prove nothing. What the tests read
 * of memcached must be there whenever the item is, or a test fails at random.
 */
class MemcachedServerTest {
    private final String before = System.getProperty(MemcachedServer.BINARY_PROPERTY);

    @AfterEach
    void restoreBinary() {
        if (before == null) {
            System.clearProperty(MemcachedServer.BINARY_PROPERTY);
        } else {
            System.setProperty(MemcachedServer.BINARY_PROPERTY, before);
        }
    }

    @Test
    void aMissingBinaryFailsTheTestWithHowToInstallIt() {
        System.setProperty(MemcachedServer.BINARY_PROPERTY, "/nonexistent/bin/memcached");
        AssertionError e = assertThrows(AssertionError.class, MemcachedServer::start);
        String message = e.getMessage();
        assertTrue(message.contains("memcached binary is missing"), message);
        assertTrue(message.contains("/nonexistent/bin/memcached"), "names where it looked: " + message);
        assertTrue(message.contains("apt-get install -y memcached"), "says how to install it: " + message);
    }

    @Test
    void aPausedNodeKeepsItsDataButAnswersNothingUntilResumed() {
        try (MemcachedServer server = MemcachedServer.start()) {
            server.set("k", new byte[] {7}, 0);
            server.pause();
            AssertionError hung = assertThrows(AssertionError.class, () -> server.get("k"));
            assertTrue(hung.getMessage().contains("does not answer"), hung.getMessage());
            assertTrue(server.isRunning(), "paused, not dead");
            server.resume();
            assertArrayEquals(new byte[] {7}, server.get("k"));
        }
    }

    /**
     * Tests poll an item's content and its expiry in turn. memcached's key listing missed an item read
     * just before in 9 of 10 tries here, and on CI a test waited 10 s in vain for a marker that was there.
     */
    @Test
    void anItemReadJustBeforeIsListedWithItsExpiry() {
        try (MemcachedServer server = MemcachedServer.start()) {
            long before = System.currentTimeMillis() / 1000;
            server.set("k", new byte[] {7}, 300);
            long after = System.currentTimeMillis() / 1000;
            server.set("forever", new byte[] {8}, 0);
            Long first = server.expiresAt("k");
            assertNotNull(first, "the expiry of an item just written");
            // memcached's clock ticks once a second and may lag the wall clock by up to 2 s; the bound
            // holds however long the reads below take on a busy machine.
            assertTrue(first >= before + 297 && first <= after + 301,
                    "expires at " + first + ", written between " + before + " and " + after);
            for (int i = 0; i < 20; i++) {
                assertNotNull(server.get("k"));
                assertEquals(first, server.expiresAt("k"), "try " + i + ": a read changes no expiry");
                assertTrue(server.keys().contains("k"), "try " + i + ": an item just read is listed");
            }
            assertEquals(-1L, server.expiresAt("forever"));
            assertNull(server.expiresAt("absent"));
        }
    }
}

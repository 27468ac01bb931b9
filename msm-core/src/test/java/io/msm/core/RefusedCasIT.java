package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.msm.shaded.net.spy.memcached.ConnectionObserver;
import io.msm.testkit.MemcachedServer;

/**
 * A cas or set that memcached refuses (the value over its item size limit, or no memory left) is a
 * refusal, as a refused set is: that one store fails, and the connection and every operation on it
 * stay. The binary protocol's refusal once reached spymemcached's cas callback as a status it does
 * not handle, the text protocol's to the client as an error of the connection: either way the IO
 * thread dropped the connection, cancelled the operations of every other request on it, and the node
 * was taken out of use for all of them.
 */
class RefusedCasIT {

    @Test
    void aStoreOverTheItemSizeLimitIsRefused_binary() throws Exception {
        refusedAndTheConnectionStays(Map.of());
    }

    @Test
    void aStoreOverTheItemSizeLimitIsRefused_text() throws Exception {
        refusedAndTheConnectionStays(Map.of("memcachedProtocol", "text"));
    }

    private static void refusedAndTheConnectionStays(Map<String, String> attributes) throws Exception {
        try (MemcachedServer server = MemcachedServer.start("-I", "1m")) {
            Map<String, String> all = new HashMap<>(attributes);
            all.put("memcachedNodes", server.node("n1"));
            Settings settings = Settings.parse(all);
            try (SpymemcachedStore store = new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM)) {
                store.awaitConnections(5000);
                AtomicInteger lost = new AtomicInteger();
                store.clientOf("n1").addObserver(new ConnectionObserver() {
                    @Override
                    public void connectionEstablished(SocketAddress sa, int reconnectCount) {
                    }

                    @Override
                    public void connectionLost(SocketAddress sa) {
                        lost.incrementAndGet();
                    }
                });
                store.set("n1", "other", new byte[] {7}, 0);
                store.set("n1", "s", new byte[] {1}, 0);
                long token = store.gets("n1", "s").cas;

                StoreException e = assertThrows(StoreException.class,
                        () -> store.cas("n1", "s", token, new byte[2_000_000], 0));

                assertTrue(e.isRefused(), "a refusal, which takes no node out of use: " + e.getMessage());
                StoreException set = assertThrows(StoreException.class,
                        () -> store.set("n1", "s", new byte[2_000_000], 0));
                assertTrue(set.isRefused(), set.getMessage());
                assertArrayEquals(new byte[] {7}, store.get("n1", "other"), "the connection answers");
                Thread.sleep(300); // a reconnect the IO thread began is told to observers at once
                assertEquals(0, lost.get(), "the connection was not dropped");
            }
        }
    }
}

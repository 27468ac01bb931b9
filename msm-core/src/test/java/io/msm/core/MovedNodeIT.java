package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import io.msm.testkit.Await;
import io.msm.testkit.MemcachedServer;

/**
 * A node named by a host name that comes back under a new address: a replaced VM or container, a
 * moved DNS name. The memcached processes are real; the name service is the test's, since servers
 * here bind to 127.0.0.1 only: "the new address" is another port on it, which no real DNS answer
 * could give, but which takes msm's code the same way.
 */
class MovedNodeIT {
    private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);
    private static final String HOST = "memcached.invalid";

    /**
     * Answers for the node's name what the test says; "down" answers that it does not resolve. The
     * name is one the JVM's own resolver never resolves (RFC 6761).
     */
    private static class TestNames implements NodeAddresses.Resolver {
        final AtomicReference<Object> answer = new AtomicReference<>();
        final AtomicInteger asked = new AtomicInteger();

        TestNames(int port) {
            pointAt(port);
        }

        void pointAt(int port) {
            answer.set(port);
        }

        void fail() {
            answer.set("down");
        }

        @Override
        public List<InetSocketAddress> resolve(MemcachedNode node) throws UnknownHostException {
            asked.incrementAndGet();
            Object a = answer.get();
            if (!(a instanceof Integer)) {
                throw new UnknownHostException(node.host());
            }
            return List.of(named((Integer) a));
        }

        /** As DNS answers: the address carries the name it was looked up by. */
        static InetSocketAddress named(int port) throws UnknownHostException {
            return new InetSocketAddress(InetAddress.getByAddress(HOST, new byte[] {127, 0, 0, 1}), port);
        }
    }

    private static SpymemcachedStore store(TestNames names, int port) throws IOException, ConfigurationException {
        Settings settings = Settings.parse(Map.of("memcachedNodes", "n1:" + HOST + ":" + port));
        return new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM, "msm-dns-test", names, 200, 1000);
    }

    /** The client sees a dead connection only when it sends something, as the health check does each second. */
    private static void awaitGone(SpymemcachedStore store) {
        Await.until("the client to see the node gone", Duration.ofSeconds(10), () -> {
            try {
                store.get("n1", "probe");
            } catch (StoreException e) {
                // what the health check would see
            }
            return !store.isConnected("n1");
        });
    }

    @Test
    void aNodeBackUnderANewAddressIsUsedThere() throws Exception {
        try (MemcachedServer first = MemcachedServer.start(); MemcachedServer second = MemcachedServer.start()) {
            TestNames names = new TestNames(first.port());
            SpymemcachedStore store = store(names, first.port());
            try {
                store.awaitConnections(5000);
                store.set("n1", "before", VALUE, 60);
                assertArrayEquals(VALUE, first.get("before"));

                first.kill();
                awaitGone(store);
                names.pointAt(second.port()); // the node's name now points at its replacement
                Await.until("the client to connect to the new address", Duration.ofSeconds(10),
                        () -> store.isConnected("n1"));
                store.set("n1", "after", VALUE, 60);
                assertArrayEquals(VALUE, second.get("after"), "written to the node's new address");
                assertNull(store.get("n1", "before"), "the replacement holds nothing of the old node");
            } finally {
                store.close();
            }
        }
    }

    @Test
    void aNameThatStopsResolvingKeepsTheAddressInUse() throws Exception {
        try (MemcachedServer node = MemcachedServer.start()) {
            TestNames names = new TestNames(node.port());
            SpymemcachedStore store = store(names, node.port());
            try {
                store.awaitConnections(5000);
                int before = names.asked.get();
                names.fail(); // DNS away for a while
                Await.until("the name asked again", Duration.ofSeconds(10), () -> names.asked.get() >= before + 2);
                store.set("n1", "k", VALUE, 60);
                assertArrayEquals(VALUE, store.get("n1", "k"), "still served at the address it had");
                assertArrayEquals(VALUE, node.get("k"));
            } finally {
                store.close();
            }
        }
    }

    @Test
    void aNameThatKeepsTheAddressAmongSeveralChangesNothing() throws Exception {
        try (MemcachedServer node = MemcachedServer.start(); MemcachedServer other = MemcachedServer.start()) {
            TestNames names = new TestNames(node.port()) {
                @Override
                public List<InetSocketAddress> resolve(MemcachedNode n) throws UnknownHostException {
                    if (asked.getAndIncrement() == 0) {
                        return super.resolve(n); // at start: the node's own address
                    }
                    // Round robin DNS: the address in use comes second now.
                    return List.of(named(other.port()), named(node.port()));
                }
            };
            SpymemcachedStore store = store(names, node.port());
            try {
                store.awaitConnections(5000);
                int before = names.asked.get();
                node.kill(); // down: asked every 200 ms
                awaitGone(store);
                Await.until("the name asked again", Duration.ofSeconds(10), () -> names.asked.get() >= before + 3);
                node.restart();
                Await.until("the node back at its address", Duration.ofSeconds(10), () -> store.isConnected("n1"));
                store.set("n1", "k", VALUE, 60);
                assertArrayEquals(VALUE, node.get("k"), "still the address in use");
                assertNull(other.get("k"));
            } finally {
                store.close();
            }
        }
    }

    /**
     * A container's name does not resolve while it restarts. The client, given the name, resolved it
     * at each reconnect and dropped the node for good at the first failure; given the address, it
     * reconnects when the node is back.
     */
    @Test
    void aNodeWhoseNameDoesNotResolveWhileItRestartsIsConnectedAgain() throws Exception {
        try (MemcachedServer node = MemcachedServer.start()) {
            TestNames names = new TestNames(node.port());
            SpymemcachedStore store = store(names, node.port());
            try {
                store.awaitConnections(5000);
                names.fail();
                node.kill();
                awaitGone(store);
                Thread.sleep(3000); // reconnects tried meanwhile (every 2 s at most), none resolvable by name
                node.restart();
                names.pointAt(node.port());
                Await.until("the client to connect again", Duration.ofSeconds(15), () -> store.isConnected("n1"));
                store.set("n1", "k", VALUE, 60);
                assertArrayEquals(VALUE, node.get("k"));
            } finally {
                store.close();
            }
        }
    }

    /**
     * While the connection works, a name pointing elsewhere is not followed: the Tomcats would switch
     * one by one, and use two servers for one node meanwhile. Once the connection is lost, it is.
     */
    @Test
    void aNameMovedWhileTheNodeAnswersIsFollowedOnceItsConnectionIsLost() throws Exception {
        try (MemcachedServer first = MemcachedServer.start(); MemcachedServer second = MemcachedServer.start()) {
            TestNames names = new TestNames(first.port());
            SpymemcachedStore store = store(names, first.port());
            try {
                store.awaitConnections(5000);
                int before = names.asked.get();
                names.pointAt(second.port());
                Await.until("the name asked again while connected", Duration.ofSeconds(10),
                        () -> names.asked.get() >= before + 2);
                store.set("n1", "k", VALUE, 60);
                assertArrayEquals(VALUE, first.get("k"), "still the server it is connected to");
                assertNull(second.get("k"));
                assertEquals(0, store.clientGeneration("n1"));

                first.kill();
                awaitGone(store);
                Await.until("the client to follow the name", Duration.ofSeconds(10), () -> store.isConnected("n1"));
                store.set("n1", "k2", VALUE, 60);
                assertArrayEquals(VALUE, second.get("k2"));
                assertEquals(1, store.clientGeneration("n1"), "the health check treats it as another server");
            } finally {
                store.close();
            }
        }
    }

    /**
     * One node's container is down while Tomcat starts, so its name does not resolve: the webapp starts
     * with the other node, and the missing one is used once its name resolves.
     */
    @Test
    void aNodeWhoseNameDoesNotResolveAtStartIsLeftOutUntilItDoes() throws Exception {
        try (MemcachedServer n1 = MemcachedServer.start(); MemcachedServer n2 = MemcachedServer.start()) {
            AtomicReference<Integer> secondPort = new AtomicReference<>();
            NodeAddresses.Resolver names = node -> {
                Integer port = node.id().equals("n1") ? Integer.valueOf(n1.port()) : secondPort.get();
                if (port == null) {
                    throw new UnknownHostException(node.host());
                }
                return List.of(TestNames.named(port));
            };
            Settings settings = Settings.parse(Map.of("memcachedNodes",
                    "n1:" + HOST + ":" + n1.port() + ",n2:second." + HOST + ":" + n2.port()));
            SpymemcachedStore store = new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM, "msm-dns-test",
                    names, 200, 1000);
            try {
                store.awaitConnections(5000);
                store.set("n1", "k", VALUE, 60);
                assertArrayEquals(VALUE, n1.get("k"), "the node that resolves serves from the start");
                assertEquals(false, store.isConnected("n2"));
                StoreException e = assertThrows(StoreException.class, () -> store.set("n2", "k", VALUE, 60));
                assertTrue(e.getMessage().contains("does not resolve"), e.getMessage());

                secondPort.set(n2.port()); // its container is up
                Await.until("n2 connected once its name resolves", Duration.ofSeconds(10), () -> store.isConnected("n2"));
                store.set("n2", "k2", VALUE, 60);
                assertArrayEquals(VALUE, n2.get("k2"));
            } finally {
                store.close();
            }
        }
    }

    /** No node resolves: nothing could be stored anywhere, and a typo is the likely cause. */
    @Test
    void aNameThatDoesNotResolveAtStartStopsTheStart() throws ConfigurationException {
        TestNames names = new TestNames(1);
        names.fail();
        Settings settings = Settings.parse(Map.of("memcachedNodes", "n1:" + HOST + ":11211"));
        IOException e = assertThrows(IOException.class,
                () -> new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM, "msm-dns-test", names, 200, 1000));
        assertTrue(e.getMessage().contains(HOST) && e.getMessage().contains("does not resolve"),
                e.getMessage());
    }

    @Test
    void addressLiteralsAreNotResolvedAgain() {
        assertTrue(NodeAddresses.isAddressLiteral("127.0.0.1"));
        assertTrue(NodeAddresses.isAddressLiteral("fd00::5"));
        assertEquals(false, NodeAddresses.isAddressLiteral("memcached.test"));
        assertEquals(false, NodeAddresses.isAddressLiteral("10.0.0.1.nip.io"));
    }
}

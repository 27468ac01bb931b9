package io.msm.core;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import net.spy.memcached.CASResponse;
import net.spy.memcached.CASValue;
import net.spy.memcached.ConnectionFactory;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.ConnectionObserver;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.internal.OperationFuture;
import net.spy.memcached.MemcachedNode;
import net.spy.memcached.auth.AuthDescriptor;
import net.spy.memcached.auth.PlainCallbackHandler;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * get / set / add / delete / touch against one named memcached node. One spymemcached client per
 * node, because the session id already names the node: no hash ring decides where a key lives.
 * Every operation waits at most {@code operationTimeout}; every failure becomes a
 * {@link StoreException} naming the node, so callers handle exactly one exception type.
 */
final class SessionStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionStore.class);
    private static final String SPY_LOGGER_PROPERTY = "net.spy.log.LoggerImpl";

    static {
        // spymemcached prints to stderr, keys included, unless told otherwise: send it where msm's own
        // log goes, keys blanked.
        if (System.getProperty(SPY_LOGGER_PROPERTY) == null) {
            System.setProperty(SPY_LOGGER_PROPERTY, SpymemcachedLog.class.getName());
        }
    }

    private final Map<String, MemcachedClient> clients = new LinkedHashMap<>();
    private final long timeoutMillis;

    SessionStore(List<io.msm.core.MemcachedNode> nodes, Settings settings) throws IOException {
        this.timeoutMillis = settings.operationTimeoutMillis();
        for (io.msm.core.MemcachedNode node : nodes) {
            clients.put(node.id(), new MemcachedClient(connectionFactory(node, settings),
                    Collections.singletonList(new InetSocketAddress(node.host(), node.port()))));
        }
    }

    private static ConnectionFactory connectionFactory(final io.msm.core.MemcachedNode node, Settings settings) {
        ConnectionFactoryBuilder b = new ConnectionFactoryBuilder()
                .setProtocol(settings.binaryProtocol() ? ConnectionFactoryBuilder.Protocol.BINARY
                        : ConnectionFactoryBuilder.Protocol.TEXT)
                .setOpTimeout(settings.operationTimeoutMillis())
                // Fail at once while a node is disconnected, instead of queueing until the timeout.
                .setFailureMode(FailureMode.Cancel)
                .setMaxReconnectDelay(2)
                .setDaemon(true)
                .setInitialObservers(Collections.<ConnectionObserver>singletonList(new ConnectionObserver() {
                    private volatile boolean lost;

                    @Override
                    public void connectionEstablished(SocketAddress sa, int reconnectCount) {
                        if (lost) {
                            lost = false;
                            LOG.info("memcached node {} connected again", node);
                        }
                    }

                    @Override
                    public void connectionLost(SocketAddress sa) {
                        lost = true;
                        LOG.warn("memcached node {} lost its connection; reconnecting", node);
                    }
                }));
        if (settings.username() != null) {
            b.setAuthDescriptor(new AuthDescriptor(new String[] {"PLAIN"},
                    new PlainCallbackHandler(settings.username(), settings.password())));
        }
        return b.build();
    }

    /** @return true while the client holds an open connection to the node */
    boolean isConnected(String nodeId) {
        MemcachedClient client = clients.get(nodeId);
        if (client == null) {
            return false;
        }
        Collection<MemcachedNode> all = client.getNodeLocator().getAll();
        for (MemcachedNode n : all) {
            if (n.isActive()) {
                return true;
            }
        }
        return false;
    }

    /** Waits up to {@code maxMillis} for every node to connect, so the first requests see real state. */
    void awaitConnections(long maxMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        for (String id : clients.keySet()) {
            while (!isConnected(id) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
    }

    /** @return the bytes, or null when the key is not there */
    byte[] get(String nodeId, String key) throws StoreException {
        MemcachedClient client = client(nodeId);
        Future<byte[]> f;
        try {
            f = client.asyncGet(key, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "get", e);
        }
        return await(nodeId, "get", f);
    }

    void set(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        finish(send(nodeId, key, value, expiry));
    }

    /**
     * A set on its way to its node, not awaited yet: several can be sent before any is awaited
     * (one round trip of waiting for all), and a caller can wait briefly and leave the rest to
     * another thread.
     */
    static final class Sent {
        final String nodeId;
        private final int length;
        private final OperationFuture<Boolean> result;

        private Sent(String nodeId, int length, OperationFuture<Boolean> result) {
            this.nodeId = nodeId;
            this.length = length;
            this.result = result;
        }

        /**
         * @return true when the node answered (or the set failed) within the time given. Waits on a
         *     latch, not on the future: spymemcached marks an operation timed out when a timed get on
         *     its future gives up, and the set, still on its way, would then be reported as failed.
         *     The listener is added only here, so other sets cost no hop to spymemcached's
         *     listener thread.
         */
        boolean awaitAnswer(long millis) {
            if (result.isDone()) {
                return true;
            }
            CountDownLatch answered = new CountDownLatch(1);
            result.addListener(f -> answered.countDown());
            try {
                return answered.await(millis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    Sent send(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        MemcachedClient client = client(nodeId);
        try {
            return new Sent(nodeId, value.length, client.set(key, expiry, value, RawBytes.INSTANCE));
        } catch (RuntimeException e) {
            throw failure(nodeId, "set", e);
        }
    }

    /** Waits for a set sent with {@link #send}, at most {@code operationTimeout}. */
    void finish(Sent sent) throws StoreException {
        Boolean stored = await(sent.nodeId, "set", sent.result);
        if (stored == null || !stored) {
            throw new StoreException(sent.nodeId, "set of " + sent.length + " bytes refused by node " + sent.nodeId
                    + " (item larger than its item size limit, or out of memory)", null);
        }
    }

    /** A value with the CAS token memcached gave it, for a conditional write later. */
    static final class Versioned {
        final byte[] value;
        final long cas;

        Versioned(byte[] value, long cas) {
            this.value = value;
            this.cas = cas;
        }
    }

    /** What a conditional write found. */
    enum CasOutcome {
        STORED, CHANGED_MEANWHILE, GONE
    }

    /** @return the value and its CAS token, or null when the key is not there */
    Versioned gets(String nodeId, String key) throws StoreException {
        MemcachedClient client = client(nodeId);
        Future<CASValue<byte[]>> f;
        try {
            f = client.asyncGets(key, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "gets", e);
        }
        CASValue<byte[]> v = await(nodeId, "gets", f);
        return v == null ? null : new Versioned(v.getValue(), v.getCas());
    }

    /** Writes only if nobody wrote the key since {@code cas} was read. */
    CasOutcome cas(String nodeId, String key, long cas, byte[] value, int expiry) throws StoreException {
        MemcachedClient client = client(nodeId);
        Future<CASResponse> f;
        try {
            f = client.asyncCAS(key, cas, expiry, value, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "cas", e);
        }
        CASResponse r = await(nodeId, "cas", f);
        if (r == CASResponse.OK) {
            return CasOutcome.STORED;
        }
        if (r == CASResponse.EXISTS) {
            return CasOutcome.CHANGED_MEANWHILE;
        }
        if (r == CASResponse.NOT_FOUND) {
            return CasOutcome.GONE;
        }
        throw new StoreException(nodeId, "cas on node " + nodeId + " answered " + r, null);
    }

    /** A versioned value and a plain companion value, fetched together. */
    static final class Pair {
        final Versioned versioned;
        final byte[] companion;

        Pair(Versioned versioned, byte[] companion) {
            this.versioned = versioned;
            this.companion = companion;
        }
    }

    /** {@link #gets} of one key and a get of another, sent together: one round trip of waiting. */
    Pair getsWithCompanion(String nodeId, String versionedKey, String companionKey) throws StoreException {
        MemcachedClient client = client(nodeId);
        Future<CASValue<byte[]>> first;
        Future<byte[]> second;
        try {
            first = client.asyncGets(versionedKey, RawBytes.INSTANCE);
            second = client.asyncGet(companionKey, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "gets", e);
        }
        CASValue<byte[]> v = await(nodeId, "gets", first);
        byte[] companion = await(nodeId, "get", second);
        return new Pair(v == null ? null : new Versioned(v.getValue(), v.getCas()), companion);
    }

    /** @return the keys found, in one round trip */
    Map<String, byte[]> getAll(String nodeId, Collection<String> keys) throws StoreException {
        MemcachedClient client = client(nodeId);
        Future<Map<String, byte[]>> f;
        try {
            f = client.asyncGetBulk(keys, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "get", e);
        }
        Map<String, byte[]> found = await(nodeId, "get", f);
        return found == null ? Collections.<String, byte[]>emptyMap() : found;
    }

    /** Deletes the key only if it still holds the version read with {@link #gets}. */
    boolean deleteIfUnchanged(String nodeId, String key, long cas) throws StoreException {
        return complete(nodeId, "delete", () -> client(nodeId).delete(key, cas));
    }

    /**
     * {@link #add} that also returns the CAS token memcached gave the new item, so that its owner
     * can later delete exactly that item in one round trip.
     *
     * @return null when the key exists already; otherwise the token, or 0 when the protocol gives none
     */
    Long addVersioned(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        MemcachedClient client = client(nodeId);
        OperationFuture<Boolean> f;
        try {
            f = client.add(key, expiry, value, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "add", e);
        }
        Boolean added = await(nodeId, "add", f);
        if (added == null || !added) {
            return null;
        }
        try {
            Long cas = f.getCas();
            return cas == null ? 0L : cas;
        } catch (UnsupportedOperationException e) {
            return 0L; // text protocol: no token with a store
        }
    }

    /** @return false when the key exists already */
    boolean add(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        return complete(nodeId, "add", () -> client(nodeId).add(key, expiry, value, RawBytes.INSTANCE));
    }

    /** @return false when the key was not there */
    boolean touch(String nodeId, String key, int expiry) throws StoreException {
        return complete(nodeId, "touch", () -> client(nodeId).touch(key, expiry));
    }

    /** @return false when the key was not there */
    boolean delete(String nodeId, String key) throws StoreException {
        return complete(nodeId, "delete", () -> client(nodeId).delete(key));
    }

    private interface Call {
        Future<Boolean> start() throws StoreException;
    }

    private boolean complete(String nodeId, String op, Call call) throws StoreException {
        Future<Boolean> f;
        try {
            f = call.start();
        } catch (RuntimeException e) {
            throw failure(nodeId, op, e);
        }
        Boolean result = await(nodeId, op, f);
        return result != null && result;
    }

    private <T> T await(String nodeId, String op, Future<T> f) throws StoreException {
        try {
            return f.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(false);
            throw new StoreException(nodeId, op + " on node " + nodeId + " timed out after " + timeoutMillis + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw new StoreException(nodeId, op + " on node " + nodeId + " interrupted", e);
        } catch (ExecutionException | RuntimeException e) {
            throw failure(nodeId, op, e);
        }
    }

    private static StoreException failure(String nodeId, String op, Exception e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return new StoreException(nodeId, op + " on node " + nodeId + " failed: " + SpymemcachedLog.mask(cause.toString()),
                cause);
    }

    private MemcachedClient client(String nodeId) throws StoreException {
        MemcachedClient client = clients.get(nodeId);
        if (client == null) {
            throw new StoreException(nodeId, "no memcached node with id " + nodeId, null);
        }
        return client;
    }

    /**
     * Closes the connections and waits (bounded) for their IO threads to end: Tomcat reports a
     * thread a webapp started and left running as a memory leak when the webapp stops.
     */
    @Override
    public void close() {
        for (MemcachedClient client : clients.values()) {
            client.shutdown(1, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (MemcachedClient client : clients.values()) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            try {
                client.getConnection().join(Math.max(1, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}

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
import java.util.function.Consumer;

import io.msm.shaded.net.spy.memcached.CASResponse;
import io.msm.shaded.net.spy.memcached.CASValue;
import io.msm.shaded.net.spy.memcached.ClientMode;
import io.msm.shaded.net.spy.memcached.ConnectionFactory;
import io.msm.shaded.net.spy.memcached.ConnectionFactoryBuilder;
import io.msm.shaded.net.spy.memcached.ConnectionObserver;
import io.msm.shaded.net.spy.memcached.FailureMode;
import io.msm.shaded.net.spy.memcached.MemcachedClient;
import io.msm.shaded.net.spy.memcached.internal.BulkFuture;
import io.msm.shaded.net.spy.memcached.internal.GetFuture;
import io.msm.shaded.net.spy.memcached.internal.OperationFuture;
import io.msm.shaded.net.spy.memcached.ops.OperationStatus;
import io.msm.shaded.net.spy.memcached.ops.StatusCode;
import io.msm.shaded.net.spy.memcached.MemcachedNode;
import io.msm.shaded.net.spy.memcached.auth.AuthDescriptor;
import io.msm.shaded.net.spy.memcached.auth.PlainCallbackHandler;

import org.slf4j.Logger;

/**
 * The {@link SessionStore} over spymemcached: one client per node, because the session id already
 * names the node. Every operation waits at most {@code operationTimeout}; every failure of the
 * client, including its own refusals, becomes a {@link StoreException} naming the node.
 */
final class SpymemcachedStore implements SessionStore {
    private static final Logger LOG = Logs.get(SpymemcachedStore.class);
    private static final String SPY_LOGGER_PROPERTY = "io.msm.shaded.net.spy.log.LoggerImpl";

    static {
        // spymemcached prints to stderr, keys included, unless told otherwise: send it where msm's own
        // log goes, keys blanked.
        if (System.getProperty(SPY_LOGGER_PROPERTY) == null) {
            System.setProperty(SPY_LOGGER_PROPERTY, SpymemcachedLog.class.getName());
        }
    }

    /** Replaced for a node whose host name comes to point elsewhere ({@link #followMovedNodes}). */
    private final Map<String, MemcachedClient> clients = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, io.msm.core.MemcachedNode> nodes = new LinkedHashMap<>();
    private final ConnectionCheck connectionCheck;
    private final boolean tls;
    private final boolean binary;
    /** memcached takes a negative expiry as already past. */
    private static final int EXPIRED_AT_ONCE = -1;
    /** SASL: operations wait in a retry list until a connection is authenticated, out of their order. */
    private final boolean authenticated;
    private final long timeoutMillis;
    private final Ticker ticker;

    private final Settings settings;
    private final NodeAddresses addresses;
    /** Resolves named nodes again; null when every node is an IP address. */
    private final java.util.concurrent.ScheduledExecutorService addressWatch;
    private boolean closed; // guarded by clients' swaps: synchronized (addresses)
    /** Per node, how often its client was replaced for a new address. */
    private final Map<String, Integer> generations = new java.util.concurrent.ConcurrentHashMap<>();
    private final OncePerMinute deadClientLines = new OncePerMinute(java.time.Clock.systemUTC());
    /** Clients replaced: their IO threads are waited for at close (those that ended are forgotten at the next move). */
    private final List<MemcachedClient> retired = new java.util.concurrent.CopyOnWriteArrayList<>();

    SpymemcachedStore(List<io.msm.core.MemcachedNode> nodes, Settings settings, Ticker ticker) throws IOException {
        this(nodes, settings, ticker, "msm-dns");
    }

    /** @param threadName of the thread that resolves named nodes again */
    SpymemcachedStore(List<io.msm.core.MemcachedNode> nodes, Settings settings, Ticker ticker, String threadName)
            throws IOException {
        this(nodes, settings, ticker, threadName, NodeAddresses.Resolver.DNS, NodeAddresses.DOWN_RECHECK_MILLIS,
                NodeAddresses.UP_RECHECK_MILLIS);
    }

    /** @param resolver a test's stand-in for DNS; the intervals as in {@link NodeAddresses} */
    SpymemcachedStore(List<io.msm.core.MemcachedNode> nodes, Settings settings, Ticker ticker, String threadName,
            NodeAddresses.Resolver resolver, long downRecheckMillis, long upRecheckMillis) throws IOException {
        this.settings = settings;
        this.addresses = new NodeAddresses(nodes, resolver, ticker, downRecheckMillis, upRecheckMillis);
        this.timeoutMillis = settings.operationTimeoutMillis();
        this.ticker = ticker;
        this.tls = settings.tls() != null;
        this.binary = settings.binaryProtocol();
        this.authenticated = settings.username() != null;
        this.connectionCheck = new ConnectionCheck(settings.tls(), settings.binaryProtocol(), settings.username(),
                settings.password(), settings.operationTimeoutMillis());
        try {
            for (io.msm.core.MemcachedNode node : nodes) {
                this.nodes.put(node.id(), node);
                InetSocketAddress address = addresses.inUse(node.id());
                if (address != null) { // else its name does not resolve yet: a client once it does
                    clients.put(node.id(), client(node, settings, address));
                }
            }
        } catch (IOException | RuntimeException e) {
            close(); // the clients made so far, and their threads
            throw e;
        }
        if (addresses.anyNamed()) {
            addressWatch = EngineThreads.single(threadName);
            long every = Math.max(100, Math.min(1000, downRecheckMillis));
            addressWatch.scheduleWithFixedDelay(this::followMovedNodes, every, every, TimeUnit.MILLISECONDS);
        } else {
            addressWatch = null;
        }
    }

    /**
     * A node whose host name no longer points at the address its client uses, while that client is
     * disconnected, gets a new client for the new address; the old one is closed. What memcached
     * holds there is treated as after a restart ({@link #clientGeneration}).
     */
    void followMovedNodes() {
        try {
            for (Map.Entry<String, InetSocketAddress> m : addresses.moved(this::isConnected).entrySet()) {
                if (!replaceClient(nodes.get(m.getKey()), m.getValue())) {
                    return; // closed
                }
            }
        } catch (RuntimeException | Error e) {
            // Scheduled with a fixed delay: an exception would end every later run.
            LOG.error("msm could not check whether a memcached node's host name moved; it checks again", e);
        }
    }

    /** @return false when the store is closed */
    private boolean replaceClient(io.msm.core.MemcachedNode node, InetSocketAddress to) {
        InetSocketAddress was = addresses.inUse(node.id());
        MemcachedClient old;
        synchronized (addresses) {
            if (closed) {
                return false;
            }
            MemcachedClient fresh;
            try {
                fresh = client(node, settings, to);
            } catch (IOException e) {
                LOG.warn("memcached node {} now resolves to {}, not {}; no client could be made for it: {}", node,
                        to.getAddress().getHostAddress(), was == null ? "nothing" : was.getAddress().getHostAddress(),
                        e.getMessage());
                return true;
            }
            old = clients.put(node.id(), fresh);
            addresses.nowUsing(node.id(), to);
            generations.merge(node.id(), 1, Integer::sum);
            if (old != null) {
                retired.add(old);
            }
        }
        if (was == null) {
            LOG.warn("memcached node {} resolves to {} now: msm connects to it and uses the node once it answers",
                    node, to.getAddress().getHostAddress());
        } else {
            LOG.warn("memcached node {} now resolves to {}, not {} as before: msm connects to the new address, and"
                    + " treats the node as one that restarted empty", node, to.getAddress().getHostAddress(),
                    was.getAddress().getHostAddress());
        }
        if (old != null) {
            old.shutdown(timeoutMillis, TimeUnit.MILLISECONDS); // disconnected: nothing of ours waits in it
        }
        // Those whose thread ended: a node whose address moves at each restart keeps no client per move.
        retired.removeIf(c -> c instanceof ConnectedClient && ((ConnectedClient) c).ioThreadEnded());
        return true;
    }

    @Override
    public int clientGeneration(String nodeId) {
        return generations.getOrDefault(nodeId, 0);
    }

    private static MemcachedClient client(io.msm.core.MemcachedNode node, Settings settings, InetSocketAddress address)
            throws IOException {
        // The client's IO thread takes this thread's context class loader: at start, the webapp's. msm's
        // own keeps a thread that outlives a reload from keeping that webapp's classes reachable.
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(SpymemcachedStore.class.getClassLoader());
        try {
            if (settings.username() == null) {
                return new ConnectedClient(connectionFactory(node, settings, null), Collections.singletonList(address));
            }
            AuthenticatingClient.Relay relay = new AuthenticatingClient.Relay();
            return AuthenticatingClient.create(connectionFactory(node, settings, relay), address, relay);
        } catch (RuntimeException e) {
            throw new IOException("no client for node " + node.id() + " (" + node.host() + ":" + node.port() + "): "
                    + e, e);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** @param relay with credentials: passes connection events to the client ({@link AuthenticatingClient}) */
    private static ConnectionFactory connectionFactory(io.msm.core.MemcachedNode node, Settings settings,
            AuthenticatingClient.Relay relay) {
        List<ConnectionObserver> observers = new java.util.ArrayList<>(2);
        observers.add(new NodeEvents(node));
        if (relay != null) {
            observers.add(relay);
        }
        ConnectionFactoryBuilder b = new ConnectionFactoryBuilder()
                // The fork's default asks a single node for an ElastiCache cluster configuration.
                .setClientMode(ClientMode.Static)
                .setProtocol(settings.binaryProtocol() ? ConnectionFactoryBuilder.Protocol.BINARY
                        : ConnectionFactoryBuilder.Protocol.TEXT)
                .setOpTimeout(settings.operationTimeoutMillis())
                // A full operation queue blocks the caller this long at most (the client's default: 10 s).
                .setOpQueueMaxBlockTime(settings.operationTimeoutMillis())
                // Fail at once while a node is disconnected, instead of queueing until the timeout.
                .setFailureMode(FailureMode.Cancel)
                .setMaxReconnectDelay(2)
                .setDaemon(true)
                // Our listeners are a latch and a failed release's note: no thread hop for them.
                .setListenerExecutorService(new CallerRunsExecutor())
                .setInitialObservers(observers);
        if (settings.binaryProtocol()) {
            // After setProtocol, which sets the client's own: answers that are not memcached's end the
            // connection before the client sizes a buffer by them (see the factory).
            b.setOpFact(new io.msm.shaded.net.spy.memcached.protocol.binary.CheckedBinaryOperationFactory());
        } else {
            // A store the node refuses is answered as refused, not as a broken connection (see the factory).
            b.setOpFact(new io.msm.shaded.net.spy.memcached.protocol.ascii.RefusalAnsweringAsciiOperationFactory());
        }
        TlsContext tls = settings.tls();
        if (tls != null) {
            // Once set, every connection to the node is TLS: a failed handshake is a failed connection.
            b.setSSLContext(tls.sslContext());
            if (tls.verifyHostnames()) {
                b.setHostnameForTlsVerification(node.host());
            } else {
                b.setSkipTlsHostnameVerification(true);
            }
        }
        if (settings.username() != null) {
            b.setAuthDescriptor(new AuthDescriptor(new String[] {"PLAIN"},
                    new PlainCallbackHandler(settings.username(), settings.password())));
            // An operation waits for authentication at most as long as for anything else (default: 1 s).
            b.setAuthWaitTime(settings.operationTimeoutMillis());
        }
        return b.build();
    }

    /** Logs a node's lost and regained connection; a connection that drops every few seconds, once a minute. */
    private static final class NodeEvents implements ConnectionObserver {
        private final io.msm.core.MemcachedNode node;
        private final OncePerMinute lines = new OncePerMinute(java.time.Clock.systemUTC());
        private volatile boolean lossLogged;

        NodeEvents(io.msm.core.MemcachedNode node) {
            this.node = node;
        }

        @Override
        public void connectionEstablished(SocketAddress sa, int reconnectCount) {
            if (lossLogged) {
                lossLogged = false;
                LOG.info("memcached node {} connected again", node);
            }
        }

        @Override
        public void connectionLost(SocketAddress sa) {
            if (lines.allow("lost")) {
                lossLogged = true;
                LOG.warn("memcached node {} lost its connection; reconnecting (this line repeats at most once a"
                        + " minute)", node);
            }
        }
    }

    @Override
    public boolean isConnected(String nodeId) {
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

    @Override
    public String problemReportedBy(String nodeId) {
        io.msm.core.MemcachedNode node = nodes.get(nodeId);
        return node == null ? null : connectionCheck.problem(node);
    }

    @Override
    public boolean answersOnNewConnection(String nodeId) {
        io.msm.core.MemcachedNode node = nodes.get(nodeId);
        return node != null && connectionCheck.answers(node);
    }

    @Override
    public boolean silentFor(String nodeId, long millis) {
        MemcachedClient client = clients.get(nodeId);
        return client instanceof ConnectedClient && ((ConnectedClient) client).silentFor(millis);
    }

    /** The node's client as it is now: for a test that makes its IO thread die. */
    MemcachedClient clientOf(String nodeId) {
        return clients.get(nodeId);
    }

    @Override
    public boolean replaceIfDead(String nodeId) {
        MemcachedClient dead = clients.get(nodeId);
        if (!(dead instanceof ConnectedClient) || !((ConnectedClient) dead).ioThreadDied()) {
            return false;
        }
        io.msm.core.MemcachedNode node = nodes.get(nodeId);
        synchronized (addresses) {
            InetSocketAddress address = addresses.inUse(nodeId);
            if (closed || clients.get(nodeId) != dead || address == null) {
                return false;
            }
            try {
                clients.put(nodeId, client(node, settings, address));
            } catch (IOException e) {
                if (deadClientLines.allow(nodeId)) {
                    LOG.error("memcached node {}: the client's IO thread ended, and no new client could be made: {};"
                            + " msm tries again at each probe; this line repeats at most once a minute", node,
                            e.getMessage());
                }
                return false;
            }
        }
        if (deadClientLines.allow(nodeId)) {
            LOG.error("memcached node {}: the client's IO thread ended (an error it does not catch; its stack trace, if"
                    + " any, is on Tomcat's standard error): every operation on the node only waited for its timeout;"
                    + " msm made a new client for the node; this line repeats at most once a minute", node);
        }
        try {
            dead.shutdown(0, TimeUnit.MILLISECONDS); // its socket and selector; no thread is left to wait for
        } catch (RuntimeException e) {
            // closed by now, or half: nothing of it is used any more
        }
        return true;
    }

    @Override
    public void reconnect(String nodeId, long silentMillis) {
        MemcachedClient client = clients.get(nodeId);
        if (!(client instanceof ConnectedClient)) {
            return;
        }
        try {
            ((ConnectedClient) client).dropIfSilent(silentMillis);
        } catch (IOException | RuntimeException e) { // closed or reconnecting meanwhile: nothing to drop
            LOG.warn("memcached node {}: its silent connection could not be dropped: {}", nodes.get(nodeId), e);
        }
    }

    @Override
    public NodeStatistics statistics(String nodeId) throws StoreException {
        if (tls) {
            // The TLS client reads memcached's statistics answer (many packets) out of step: its IO
            // thread fails an assertion (TlsIT with -ea showed it) and would go on misreading without.
            return NodeStatistics.UNKNOWN;
        }
        Map<SocketAddress, Map<String, String>> stats;
        try {
            stats = client(nodeId).getStats(); // waits operationTimeout at most
        } catch (RuntimeException e) {
            throw failure(nodeId, "stats", e);
        }
        for (Map<String, String> s : stats.values()) {
            if (s.get("evictions") != null || s.get("time") != null) {
                return new NodeStatistics(number(s.get("evictions")), number(s.get("time")));
            }
        }
        return NodeStatistics.UNKNOWN;
    }

    private static long number(String statistic) {
        try {
            return statistic == null ? -1 : Long.parseLong(statistic.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void awaitConnections(long maxMillis) throws InterruptedException {
        long deadline = ticker.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        for (String id : clients.keySet()) {
            while (!isConnected(id) && ticker.nanoTime() < deadline) {
                ticker.sleep(10);
            }
        }
    }

    @Override
    public byte[] get(String nodeId, String key) throws StoreException {
        MemcachedClient client = client(nodeId);
        Future<byte[]> f;
        try {
            f = client.asyncGet(key, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "get", e);
        }
        return await(nodeId, "get", f);
    }

    /** A set spymemcached has queued for its node. */
    private static final class SpySent implements Sent {
        final String nodeId;
        private final int length;
        private final OperationFuture<Boolean> result;

        private SpySent(String nodeId, int length, OperationFuture<Boolean> result) {
            this.nodeId = nodeId;
            this.length = length;
            this.result = result;
        }

        @Override
        public String nodeId() {
            return nodeId;
        }

        /**
         * @return true when the node answered (or the set failed) within the time given. Waits on a
         *     latch, not on the future: spymemcached marks an operation timed out when a timed get on
         *     its future gives up, and the set, still on its way, would then be reported as failed.
         *     The listener is added only here, so other sets cost no hop to spymemcached's
         *     listener thread.
         */
        @Override
        public boolean awaitAnswer(long millis) {
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

    @Override
    public Sent send(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        MemcachedClient client = client(nodeId);
        try {
            return new SpySent(nodeId, value.length, client.set(key, expiry, value, RawBytes.INSTANCE));
        } catch (RuntimeException e) {
            throw failure(nodeId, "set", e);
        }
    }

    @Override
    public void finish(Sent s) throws StoreException {
        SpySent sent = (SpySent) s;
        Boolean stored = await(sent.nodeId, "set", sent.result);
        if (stored == null || !stored) {
            throw StoreException.refused(sent.nodeId, "set of " + sent.length + " bytes refused by node "
                    + sent.nodeId + " (item larger than its item size limit, or out of memory)", null);
        }
    }

    @Override
    public Versioned gets(String nodeId, String key) throws StoreException {
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

    @Override
    public CasOutcome cas(String nodeId, String key, long cas, byte[] value, int expiry) throws StoreException {
        return cas(nodeId, "cas", key, cas, value, expiry);
    }

    /** @param op what the caller does, for the failure's message */
    private CasOutcome cas(String nodeId, String op, String key, long cas, byte[] value, int expiry)
            throws StoreException {
        MemcachedClient client = client(nodeId);
        Future<CASResponse> f;
        try {
            f = client.asyncCAS(key, cas, expiry, value, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, op, e);
        }
        CASResponse r = await(nodeId, op, f);
        if (r == CASResponse.OK) {
            return CasOutcome.STORED;
        }
        if (r == CASResponse.EXISTS) {
            return CasOutcome.CHANGED_MEANWHILE;
        }
        if (r == CASResponse.NOT_FOUND) {
            return CasOutcome.GONE;
        }
        checkAnswer(nodeId, op, f); // a refusal (CheckedBinaryOperationFactory) is one, as a set's is
        throw new StoreException(nodeId, op + " on node " + nodeId + " answered " + r, null);
    }

    @Override
    public Pair getsWithCompanion(String nodeId, String versionedKey, String companionKey) throws StoreException {
        MemcachedClient client = client(nodeId);
        Future<CASValue<byte[]>> first;
        Future<byte[]> second;
        try {
            first = client.asyncGets(versionedKey, RawBytes.INSTANCE);
            second = client.asyncGet(companionKey, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "gets", e);
        }
        return pair(nodeId, first, second);
    }

    private Pair pair(String nodeId, Future<CASValue<byte[]>> first, Future<byte[]> second) throws StoreException {
        CASValue<byte[]> v = await(nodeId, "gets", first);
        byte[] companion = await(nodeId, "get", second);
        return new Pair(v == null ? null : new Versioned(v.getValue(), v.getCas()), companion);
    }

    @Override
    public Asked ask(String nodeId, Collection<String> keys) throws StoreException {
        if (tls) {
            client(nodeId); // a node without a client fails now, as below
            return maxMillis -> oneAtATime(nodeId, keys, maxMillis);
        }
        MemcachedClient client = client(nodeId);
        BulkFuture<Map<String, byte[]>> f;
        try {
            f = client.asyncGetBulk(keys, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "get", e);
        }
        return maxMillis -> {
            if (!f.isDone()) {
                // Not f.get(timeout): a get given up that way counts towards the client's resets of
                // the connection, and this wait is shorter than an operation may take.
                CountDownLatch answered = new CountDownLatch(1);
                f.addListener(done -> answered.countDown());
                try {
                    if (!answered.await(maxMillis, TimeUnit.MILLISECONDS)) {
                        return null;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Collections.<String, byte[]>emptyMap(); // says nothing of the node
                }
            }
            Map<String, byte[]> found = await(nodeId, "get", f);
            return found == null ? Collections.<String, byte[]>emptyMap() : found;
        };
    }

    /**
     * Under TLS, a batch of keys is read one get at a time: the TLS client hands a batch's answers to
     * its operation one decrypted record at a time and drops the rest of the record, so a batch with
     * several hits lost its end, and the answers after it went to the wrong operations; its IO thread
     * then died ("Opaque is not valid"), and every request on that node failed (TlsIT). A batch of a
     * large session's parts, one large answer's end and the next one's start in a record, came back
     * out of step too.
     *
     * @return the keys found, or null when the node has not answered them all within {@code maxMillis}
     */
    private Map<String, byte[]> oneAtATime(String nodeId, Collection<String> keys, long maxMillis)
            throws StoreException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        Map<String, byte[]> found = new java.util.HashMap<>();
        for (String key : keys) {
            Future<byte[]> f;
            try {
                f = client(nodeId).asyncGet(key, RawBytes.INSTANCE);
            } catch (RuntimeException e) {
                throw failure(nodeId, "get", e);
            }
            if (!answeredWithin(f, deadline)) {
                // Interrupted: says nothing of the node, as below without TLS.
                return Thread.currentThread().isInterrupted() ? Collections.<String, byte[]>emptyMap() : null;
            }
            byte[] value = await(nodeId, "get", f);
            if (value != null) {
                found.put(key, value);
            }
        }
        return found;
    }

    /** Not f.get(timeout): a get given up that way counts towards the client's resets of the connection. */
    private static boolean answeredWithin(Future<?> f, long deadlineNanos) {
        if (f.isDone()) {
            return true;
        }
        CountDownLatch answered = new CountDownLatch(1);
        ((GetFuture<?>) f).addListener(done -> answered.countDown());
        try {
            return answered.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public Map<String, byte[]> getParts(String nodeId, Collection<String> keys) throws StoreException {
        // One user's large session over a link slower than a megabyte per operationTimeout must not
        // time out, and take its node out of use for every user, as one operation's timeout would.
        return getAll(nodeId, keys, timeoutMillis * (1 + keys.size()));
    }

    @Override
    public Map<String, byte[]> getAll(String nodeId, Collection<String> keys) throws StoreException {
        return getAll(nodeId, keys, timeoutMillis);
    }

    private Map<String, byte[]> getAll(String nodeId, Collection<String> keys, long waitMillis)
            throws StoreException {
        if (tls) {
            Map<String, byte[]> found = new java.util.HashMap<>();
            for (String key : keys) {
                byte[] value = get(nodeId, key);
                if (value != null) {
                    found.put(key, value);
                }
            }
            return found;
        }
        MemcachedClient client = client(nodeId);
        Future<Map<String, byte[]>> f;
        try {
            f = client.asyncGetBulk(keys, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "get", e);
        }
        Map<String, byte[]> found = await(nodeId, "get", f, waitMillis);
        return found == null ? Collections.<String, byte[]>emptyMap() : found;
    }

    @Override
    public boolean deleteIfUnchanged(String nodeId, String key, long cas) throws StoreException {
        if (!binary) {
            // The text protocol has no delete with a CAS token: a cas of an item that expires at once
            // (a negative expiry) removes exactly that version, as the binary delete does. Refused when
            // the node has no memory even for the empty value, as any cas.
            return cas(nodeId, "delete", key, cas, new byte[0], EXPIRED_AT_ONCE) == CasOutcome.STORED;
        }
        return complete(nodeId, "delete", () -> client(nodeId).delete(key, cas));
    }

    @Override
    public void deleteIfUnchangedLater(String nodeId, String key, long cas, Consumer<StoreException> failed) {
        if (!binary) {
            SessionStore.super.deleteIfUnchangedLater(nodeId, key, cas, failed);
            return;
        }
        OperationFuture<Boolean> f;
        try {
            f = client(nodeId).delete(key, cas);
        } catch (StoreException e) {
            failed.accept(e);
            return;
        } catch (RuntimeException e) {
            failed.accept(failure(nodeId, "delete", e));
            return;
        }
        f.addListener(done -> {
            try {
                await(nodeId, "delete", f); // answered already: reads the outcome, never waits
            } catch (StoreException e) {
                failed.accept(e);
            }
        });
    }

    @Override
    public Long addVersioned(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        MemcachedClient client = client(nodeId);
        OperationFuture<Boolean> f;
        try {
            f = client.add(key, expiry, value, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "add", e);
        }
        return addedCas(nodeId, f);
    }

    /** @return null when the key existed already; else the new item's CAS token, or 0 when the protocol gives none */
    private Long addedCas(String nodeId, OperationFuture<Boolean> add) throws StoreException {
        Boolean added = await(nodeId, "add", add);
        if (added == null || !added) {
            return null;
        }
        try {
            Long cas = add.getCas();
            return cas == null ? 0L : cas;
        } catch (UnsupportedOperationException e) {
            return 0L; // text protocol: no token with a store
        }
    }

    @Override
    public LockedRead addVersionedThenRead(String nodeId, String key, byte[] value, int expiry, String versionedKey,
            String companionKey) throws StoreException {
        if (authenticated) {
            // Operations sent while a connection authenticates are retried after newer ones: the
            // read could pass the add. One after the other, then.
            return SessionStore.super.addVersionedThenRead(nodeId, key, value, expiry, versionedKey, companionKey);
        }
        MemcachedClient client = client(nodeId);
        OperationFuture<Boolean> add;
        Future<CASValue<byte[]>> first;
        Future<byte[]> second;
        try {
            // Enqueued from one thread onto the node's one connection: written, and answered, in this order.
            add = client.add(key, expiry, value, RawBytes.INSTANCE);
            first = client.asyncGets(versionedKey, RawBytes.INSTANCE);
            second = client.asyncGet(companionKey, RawBytes.INSTANCE);
        } catch (RuntimeException e) {
            throw failure(nodeId, "add", e);
        }
        Long cas = addedCas(nodeId, add);
        if (cas == null) {
            return new LockedRead(null, null); // the read is of another holder's session: not used
        }
        Pair read;
        try {
            read = pair(nodeId, first, second);
        } catch (StoreException e) {
            read = null; // the caller's own read meets the failure and reports it
        }
        return new LockedRead(cas, read);
    }

    @Override
    public boolean add(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        return complete(nodeId, "add", () -> client(nodeId).add(key, expiry, value, RawBytes.INSTANCE));
    }

    @Override
    public boolean touch(String nodeId, String key, int expiry) throws StoreException {
        return complete(nodeId, "touch", () -> client(nodeId).touch(key, expiry));
    }

    @Override
    public boolean delete(String nodeId, String key) throws StoreException {
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
        return await(nodeId, op, f, timeoutMillis);
    }

    private <T> T await(String nodeId, String op, Future<T> f, long waitMillis) throws StoreException {
        try {
            T result = f.get(waitMillis, TimeUnit.MILLISECONDS);
            if (result == null || Boolean.FALSE.equals(result)) {
                checkAnswer(nodeId, op, f);
            }
            return result;
        } catch (TimeoutException e) {
            f.cancel(false);
            throw new StoreException(nodeId, op + " on node " + nodeId + " timed out after " + waitMillis + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw new StoreException(nodeId, op + " on node " + nodeId + " interrupted", e);
        } catch (ExecutionException | RuntimeException e) {
            throw failure(nodeId, op, e);
        }
    }

    /**
     * A miss or a "not stored" is an answer; an error status is not. spymemcached gives a get that
     * the node refused (a node with SASL that did not accept us answers every operation so) the
     * same null as a miss: taken as one, a session would look gone while it is there.
     */
    private static void checkAnswer(String nodeId, String op, Future<?> f) throws StoreException {
        OperationStatus status = f instanceof GetFuture ? ((GetFuture<?>) f).getStatus()
                : f instanceof OperationFuture ? ((OperationFuture<?>) f).getStatus()
                : f instanceof BulkFuture ? ((BulkFuture<?>) f).getStatus() : null;
        StatusCode code = status == null ? null : status.getStatusCode();
        if (code == null || status.isSuccess() || code == StatusCode.ERR_NOT_FOUND || code == StatusCode.ERR_EXISTS
                || code == StatusCode.ERR_NOT_STORED) {
            return;
        }
        String message = op + " on node " + nodeId + " answered " + SpymemcachedLog.mask(status.getMessage()) + " (" + code
                + ")";
        if (code == StatusCode.ERR_2BIG || code == StatusCode.ERR_NO_MEM || code == StatusCode.ERR_INVAL) {
            throw StoreException.refused(nodeId, message, null);
        }
        throw new StoreException(nodeId, message, null);
    }

    private static StoreException failure(String nodeId, String op, Exception e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        String message = op + " on node " + nodeId + " failed: " + SpymemcachedLog.mask(cause.toString());
        // The client refuses a key or value before sending it (IllegalArgumentException), and the text
        // protocol answers an item over the item size with a server error: neither is the node's fault.
        String text = String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (cause instanceof IllegalArgumentException || text.contains("too large") || text.contains("out of memory")) {
            return StoreException.refused(nodeId, message, cause);
        }
        return new StoreException(nodeId, message, cause);
    }

    private MemcachedClient client(String nodeId) throws StoreException {
        MemcachedClient client = clients.get(nodeId);
        if (client == null) {
            io.msm.core.MemcachedNode node = nodes.get(nodeId);
            throw new StoreException(nodeId, node == null ? "no memcached node with id " + nodeId
                    : "memcached node " + node + " does not resolve yet", null);
        }
        return client;
    }

    /**
     * Closes the connections and waits (bounded) for their IO threads to end: Tomcat reports a
     * thread a webapp started and left running as a memory leak when the webapp stops.
     */
    @Override
    public void close() {
        synchronized (addresses) {
            closed = true; // no client is made after the ones closed below
        }
        if (addressWatch != null) {
            addressWatch.shutdownNow();
            try {
                // Tomcat reports a thread the webapp started and left running; a lookup under way cannot be
                // interrupted, and ends by itself (the thread is a daemon).
                addressWatch.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (MemcachedClient client : clients.values()) {
            client.shutdown(1, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        List<MemcachedClient> all = new java.util.ArrayList<>(clients.values());
        all.addAll(retired);
        for (MemcachedClient client : all) {
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

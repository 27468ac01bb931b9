package io.msm.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link SessionStore} in memory, for the engine's unit tests: each node holds its items with CAS
 * tokens and expiries on the test's clock, and can be told to fail every operation, to hang (every
 * operation times out, and the writes are applied when it resumes, as memcached does with what it
 * read before it stopped), to refuse items above a size, or to forget everything (a restart).
 * Real memcached stays the truth for the integration tests.
 */
final class InMemoryStore implements SessionStore {
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final FakeTime time;
    private final AtomicLong casCounter = new AtomicLong();

    InMemoryStore(FakeTime time, String... nodeIds) {
        this.time = time;
        for (String id : nodeIds) {
            nodes.put(id, new Node());
        }
    }

    /** memcached's clock is the store's time: a Tomcat on {@link FakeTime#aheadBy} differs from it. */
    @Override
    public NodeStatistics statistics(String nodeId) {
        return new NodeStatistics(-1, time.millis() / 1000);
    }

    private static final class Item {
        final byte[] value;
        final long cas;
        /** Milliseconds on the test's clock; 0 never. */
        final long expiresAt;

        Item(byte[] value, long cas, long expiresAt) {
            this.value = value;
            this.cas = cas;
            this.expiresAt = expiresAt;
        }
    }

    private static final class Node {
        final Map<String, Item> items = new HashMap<>();
        boolean connected = true;
        int generation;
        boolean failing;
        /** Operations still to fail before the node answers again by itself. */
        int failuresLeft;
        /** Marker reads still to go without an answer in time. */
        int unansweredAsksLeft;
        /** Marker reads sent to the node. */
        int asks;
        /** Run as the next operation reaches the node: what happens meanwhile elsewhere. */
        Runnable atNextOperation;
        /** Operations to let through before {@link #atNextOperation} runs. */
        int operationsBefore;
        /** Sets sent ({@link #send}) still to be answered later than any request waits. */
        int lateAnswersLeft;
        /** The next delete of this key fails, and the node with it. */
        String failingDelete;
        /** The next delete of this key runs {@link #onDeleteAction} first: what a request does meanwhile. */
        String onDelete;
        Runnable onDeleteAction;
        boolean hung;
        int refuseAbove = Integer.MAX_VALUE;
        /** Writes sent while hung, applied on resume. */
        final List<Runnable> appliedOnResume = new ArrayList<>();
    }

    // ---- what a test tells a node ----

    /** Every operation fails at once, as with a node that refuses connections. */
    synchronized void fail(String nodeId) {
        node(nodeId).failing = true;
    }

    /** The next operations fail at once, then the node answers: a moment's overload. */
    synchronized void failNext(String nodeId, int operations) {
        node(nodeId).failuresLeft = operations;
    }

    /** The next marker reads ({@link #ask}) get no answer in time, as from a node slow for a moment. */
    synchronized void leaveUnanswered(String nodeId, int asks) {
        node(nodeId).unansweredAsksLeft = asks;
    }

    /** Runs {@code meanwhile} as the next operation reaches the node, before it is answered. */
    synchronized void atNextOperation(String nodeId, Runnable meanwhile) {
        atOperation(nodeId, 1, meanwhile);
    }

    /** Runs {@code meanwhile} as the {@code nth} operation from now reaches the node, before it is answered. */
    synchronized void atOperation(String nodeId, int nth, Runnable meanwhile) {
        node(nodeId).operationsBefore = nth - 1;
        node(nodeId).atNextOperation = meanwhile;
    }

    /** The next set sent to the node ({@link #send}) is stored, but its answer comes later than any request waits. */
    synchronized void answerLate(String nodeId) {
        node(nodeId).lateAnswersLeft++;
    }

    /** The next delete of the key fails as the node fails; everything before it is answered. */
    synchronized void failNextDelete(String nodeId, String key) {
        node(nodeId).failingDelete = key;
    }

    /** @return the marker reads ({@link #ask}) sent to the node so far */
    synchronized int asks(String nodeId) {
        return node(nodeId).asks;
    }

    /** Every operation times out; writes are applied when the node {@link #resume resumes}. */
    synchronized void hang(String nodeId) {
        node(nodeId).hung = true;
    }

    /** The node answers again, normally. */
    synchronized void resume(String nodeId) {
        Node n = node(nodeId);
        n.failing = false;
        n.hung = false;
        for (Runnable write : n.appliedOnResume) {
            write.run();
        }
        n.appliedOnResume.clear();
    }

    /** Items larger than this are refused, as memcached refuses one above its item size. */
    synchronized void refuseAbove(String nodeId, int bytes) {
        node(nodeId).refuseAbove = bytes;
    }

    /** The node restarted empty. */
    synchronized void forget(String nodeId) {
        node(nodeId).items.clear();
    }

    /**
     * The node's name now points at another server, which holds what this one holds (a server the
     * name pointed at before, with everything from then): what {@link SpymemcachedStore} reports
     * when it connected elsewhere.
     */
    synchronized void movedToAnotherServer(String nodeId) {
        node(nodeId).generation++;
    }

    @Override
    public synchronized int clientGeneration(String nodeId) {
        return node(nodeId).generation;
    }

    synchronized void disconnect(String nodeId) {
        node(nodeId).connected = false;
    }

    /** @return the live value under the key, or null; what a test reads to see what memcached holds */
    synchronized byte[] peek(String nodeId, String key) {
        Item item = live(node(nodeId), key);
        return item == null ? null : item.value;
    }

    synchronized void put(String nodeId, String key, byte[] value) {
        node(nodeId).items.put(key, new Item(value, casCounter.incrementAndGet(), 0));
    }

    /** @return every live key of the node */
    synchronized List<String> keys(String nodeId) {
        List<String> keys = new ArrayList<>();
        for (String key : new ArrayList<>(node(nodeId).items.keySet())) {
            if (live(node(nodeId), key) != null) {
                keys.add(key);
            }
        }
        return keys;
    }

    // ---- SessionStore ----

    @Override
    public synchronized boolean isConnected(String nodeId) {
        return node(nodeId).connected;
    }

    @Override
    public void awaitConnections(long maxMillis) {
    }

    @Override
    public synchronized byte[] get(String nodeId, String key) throws StoreException {
        Item item = live(answering(nodeId, "get", null), key);
        return item == null ? null : item.value;
    }

    @Override
    public synchronized Map<String, byte[]> getAll(String nodeId, Collection<String> keys) throws StoreException {
        Node n = answering(nodeId, "get", null);
        Map<String, byte[]> found = new HashMap<>();
        for (String key : keys) {
            Item item = live(n, key);
            if (item != null) {
                found.put(key, item.value);
            }
        }
        return found;
    }

    /** As spymemcached's: a node that hangs, or is slow this once, leaves the wait without an answer. */
    @Override
    public synchronized Asked ask(String nodeId, Collection<String> keys) throws StoreException {
        Node n = nodes.get(nodeId);
        if (n != null) {
            n.asks++;
            if (n.hung || n.unansweredAsksLeft > 0) {
                n.unansweredAsksLeft = Math.max(0, n.unansweredAsksLeft - 1);
                return maxMillis -> null;
            }
        }
        Map<String, byte[]> found = getAll(nodeId, keys);
        return maxMillis -> found;
    }

    @Override
    public synchronized Versioned gets(String nodeId, String key) throws StoreException {
        Item item = live(answering(nodeId, "gets", null), key);
        return item == null ? null : new Versioned(item.value, item.cas);
    }

    @Override
    public synchronized Pair getsWithCompanion(String nodeId, String versionedKey, String companionKey)
            throws StoreException {
        Versioned v = gets(nodeId, versionedKey);
        return new Pair(v, get(nodeId, companionKey));
    }

    @Override
    public synchronized Sent send(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        Node n = answering(nodeId, "set", () -> store(node(nodeId), key, value, expiry));
        boolean stored = value.length <= n.refuseAbove;
        if (stored) {
            store(n, key, value, expiry);
        } else {
            n.items.remove(key); // as memcached: the item whose set it refuses is deleted
        }
        boolean late = n.lateAnswersLeft > 0;
        if (late) {
            n.lateAnswersLeft--;
        }
        return new Answered(nodeId, stored, value.length, late);
    }

    @Override
    public void finish(Sent sent) throws StoreException {
        Answered a = (Answered) sent;
        if (!a.stored) {
            throw StoreException.refused(a.nodeId, "set of " + a.length + " bytes refused by node " + a.nodeId, null);
        }
    }

    @Override
    public synchronized boolean add(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        return addVersioned(nodeId, key, value, expiry) != null;
    }

    @Override
    public synchronized Long addVersioned(String nodeId, String key, byte[] value, int expiry)
            throws StoreException {
        Node n = answering(nodeId, "add", () -> {
            if (live(node(nodeId), key) == null) {
                store(node(nodeId), key, value, expiry);
            }
        });
        if (value.length > n.refuseAbove) {
            // As memcached: an error answer, whether or not the key exists (SpymemcachedStore: refused).
            throw StoreException.refused(nodeId, "add of " + value.length + " bytes refused by node " + nodeId, null);
        }
        if (live(n, key) != null) {
            return null;
        }
        return store(n, key, value, expiry).cas;
    }

    @Override
    public synchronized CasOutcome cas(String nodeId, String key, long cas, byte[] value, int expiry)
            throws StoreException {
        Node n = answering(nodeId, "cas", null);
        Item item = live(n, key);
        if (item == null) {
            return CasOutcome.GONE;
        }
        if (item.cas != cas) {
            return CasOutcome.CHANGED_MEANWHILE;
        }
        if (value.length > n.refuseAbove) {
            n.items.remove(key); // as memcached's binary protocol, whose cas is a set with a token
            throw StoreException.refused(nodeId, "cas of " + value.length + " bytes refused by node " + nodeId, null);
        }
        store(n, key, value, expiry);
        return CasOutcome.STORED;
    }

    @Override
    public synchronized boolean touch(String nodeId, String key, int expiry) throws StoreException {
        Node n = answering(nodeId, "touch", null);
        Item item = live(n, key);
        if (item == null) {
            return false;
        }
        n.items.put(key, new Item(item.value, item.cas, expiresAt(expiry)));
        return true;
    }

    /** Runs {@code meanwhile} once, inside the next delete of the key, before it is done. */
    synchronized void onNextDelete(String nodeId, String key, Runnable meanwhile) {
        node(nodeId).onDelete = key;
        node(nodeId).onDeleteAction = meanwhile;
    }

    @Override
    public synchronized boolean delete(String nodeId, String key) throws StoreException {
        if (key.equals(node(nodeId).onDelete)) {
            node(nodeId).onDelete = null;
            node(nodeId).onDeleteAction.run();
        }
        if (key.equals(node(nodeId).failingDelete)) {
            node(nodeId).failingDelete = null;
            node(nodeId).failing = true;
        }
        Node n = answering(nodeId, "delete", () -> node(nodeId).items.remove(key));
        return live(n, key) != null && n.items.remove(key) != null;
    }

    @Override
    public synchronized boolean deleteIfUnchanged(String nodeId, String key, long cas) throws StoreException {
        Node n = answering(nodeId, "delete", null);
        Item item = live(n, key);
        if (item == null || item.cas != cas) {
            return false;
        }
        n.items.remove(key);
        return true;
    }

    private volatile boolean closed;

    @Override
    public void close() {
        closed = true;
    }

    /** @return true once the engine closed its client */
    boolean isClosed() {
        return closed;
    }

    // ---- inside ----

    /**
     * @param onResume what a write does if the node hangs: memcached applies it when it wakes up
     * @return the node, when it answers
     */
    private Node answering(String nodeId, String op, Runnable onResume) throws StoreException {
        Node n = nodes.get(nodeId);
        if (n == null) {
            throw new StoreException(nodeId, "no memcached node with id " + nodeId, null);
        }
        if (n.atNextOperation != null && n.operationsBefore-- == 0) {
            Runnable meanwhile = n.atNextOperation;
            n.atNextOperation = null;
            meanwhile.run();
        }
        if (n.failuresLeft > 0) {
            n.failuresLeft--;
            throw new StoreException(nodeId, op + " on node " + nodeId + " timed out", null);
        }
        if (n.failing || !n.connected) {
            throw new StoreException(nodeId, op + " on node " + nodeId + " failed: connection refused", null);
        }
        if (n.hung) {
            if (onResume != null) {
                n.appliedOnResume.add(onResume);
            }
            throw new StoreException(nodeId, op + " on node " + nodeId + " timed out", null);
        }
        return n;
    }

    private Node node(String nodeId) {
        Node n = nodes.get(nodeId);
        if (n == null) {
            throw new IllegalArgumentException("no node " + nodeId);
        }
        return n;
    }

    private Item live(Node n, String key) {
        Item item = n.items.get(key);
        if (item != null && item.expiresAt != 0 && item.expiresAt <= time.millis()) {
            n.items.remove(key);
            return null;
        }
        return item;
    }

    private Item store(Node n, String key, byte[] value, int expiry) {
        Item item = new Item(Arrays.copyOf(value, value.length), casCounter.incrementAndGet(), expiresAt(expiry));
        n.items.put(key, item);
        return item;
    }

    /** memcached reads an expiry up to 30 days as seconds from now, beyond as a Unix time. */
    private long expiresAt(int expiry) {
        if (expiry == 0) {
            return 0;
        }
        return expiry <= 30 * 24 * 3600 ? time.millis() + expiry * 1000L : expiry * 1000L;
    }

    private static final class Answered implements Sent {
        final String nodeId;
        final boolean stored;
        final int length;
        final boolean late;

        Answered(String nodeId, boolean stored, int length, boolean late) {
            this.nodeId = nodeId;
            this.stored = stored;
            this.length = length;
            this.late = late;
        }

        @Override
        public String nodeId() {
            return nodeId;
        }

        @Override
        public boolean awaitAnswer(long millis) {
            return !late;
        }
    }
}

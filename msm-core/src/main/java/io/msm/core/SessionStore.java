package io.msm.core;

import java.util.Collection;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the engine asks of memcached, against one named node: the session id names the node, so no
 * hash ring decides where a key lives. Every failure is a {@link StoreException} naming the node, so
 * callers handle exactly one exception type. {@link SpymemcachedStore} talks to real memcached; the
 * engine's tests run on an in-memory store that can be told to fail, hang, refuse or forget.
 */
interface SessionStore extends AutoCloseable {

    /** @return true while the store holds an open connection to the node */
    boolean isConnected(String nodeId);

    /**
     * Asked when a node fails: what the node itself says is wrong with how this store talks to it
     * (credentials refused, asked for credentials none are set), in words for the log; null when
     * it says nothing of the kind or does not answer.
     */
    default String problemReportedBy(String nodeId) {
        return null;
    }

    /** @return true when the node answers a request on a connection made for it now */
    default boolean answersOnNewConnection(String nodeId) {
        return false;
    }

    /**
     * @return true when a request to the node waits for its answer and nothing arrived over the
     *     connection for this long
     */
    default boolean silentFor(String nodeId, long millis) {
        return false;
    }

    /**
     * Makes the node a new client if its client stopped working for good (its IO thread died), on the
     * same address: what memcached holds is unchanged, so the node is no new one.
     *
     * @return true when it did
     */
    default boolean replaceIfDead(String nodeId) {
        return false;
    }

    /**
     * Drops the node's connection if it is still silent ({@link #silentFor}): the client makes a new
     * one, and fails what waited on the old.
     */
    default void reconnect(String nodeId, long silentMillis) {
    }

    /**
     * @return the node's {@code evictions} and {@code time} statistics, each -1 where the store cannot
     *     tell
     */
    default NodeStatistics statistics(String nodeId) throws StoreException {
        return NodeStatistics.UNKNOWN;
    }

    /** Waits up to {@code maxMillis} for every node to connect, so the first requests see real state. */
    void awaitConnections(long maxMillis) throws InterruptedException;

    /**
     * @return how often the node's connection was moved to another server (its name resolved
     *     elsewhere): what that server holds is not what this Tomcat wrote
     */
    default int clientGeneration(String nodeId) {
        return 0;
    }

    /** @return the bytes, or null when the key is not there */
    byte[] get(String nodeId, String key) throws StoreException;

    /** @return the keys found, in one round trip */
    Map<String, byte[]> getAll(String nodeId, Collection<String> keys) throws StoreException;

    /**
     * Reads the parts of one large value, each up to a megabyte: as {@link #getAll}, given the time
     * of an operation for each part, since its answer takes as long to arrive as its size does.
     */
    default Map<String, byte[]> getParts(String nodeId, Collection<String> keys) throws StoreException {
        return getAll(nodeId, keys);
    }

    /**
     * Sends a read of small keys (markers, never a session) and returns at once: the caller makes
     * its own round trip meanwhile and then takes this answer, waiting a bounded time for it.
     */
    default Asked ask(String nodeId, Collection<String> keys) throws StoreException {
        Map<String, byte[]> found = getAll(nodeId, keys);
        return maxMillis -> found;
    }

    /** @return the value and its CAS token, or null when the key is not there */
    Versioned gets(String nodeId, String key) throws StoreException;

    /** {@link #gets} of one key and a get of another, sent together: one round trip of waiting. */
    Pair getsWithCompanion(String nodeId, String versionedKey, String companionKey) throws StoreException;

    default void set(String nodeId, String key, byte[] value, int expiry) throws StoreException {
        finish(send(nodeId, key, value, expiry));
    }

    /** Sends a set without waiting for its answer; {@link #finish} waits. */
    Sent send(String nodeId, String key, byte[] value, int expiry) throws StoreException;

    /** Waits for a set sent with {@link #send}, at most {@code operationTimeout}; a refusal throws. */
    void finish(Sent sent) throws StoreException;

    /** @return false when the key exists already */
    boolean add(String nodeId, String key, byte[] value, int expiry) throws StoreException;

    /**
     * {@link #add} that also returns the CAS token memcached gave the new item, so that its owner
     * can later delete exactly that item in one round trip.
     *
     * @return null when the key exists already; otherwise the token, or 0 when the protocol gives none
     */
    Long addVersioned(String nodeId, String key, byte[] value, int expiry) throws StoreException;

    /**
     * {@link #addVersioned} of a lock, with a {@link #getsWithCompanion} sent right behind it on the
     * same connection. memcached answers one connection's requests in order, so when the add
     * succeeds the read saw the node as it is under the lock: one round trip of waiting, not two.
     *
     * @return the add's outcome as {@link #addVersioned} gives it, and the read: null when the add
     *     did not succeed (what was read then is not the locked state) or the read failed, and the
     *     caller reads again
     */
    default LockedRead addVersionedThenRead(String nodeId, String key, byte[] value, int expiry, String versionedKey,
            String companionKey) throws StoreException {
        Long cas = addVersioned(nodeId, key, value, expiry);
        Pair read = null;
        if (cas != null) {
            try {
                read = getsWithCompanion(nodeId, versionedKey, companionKey);
            } catch (StoreException e) {
                read = null; // the caller's own read meets the failure and reports it
            }
        }
        return new LockedRead(cas, read);
    }

    /** Writes only if nobody wrote the key since {@code cas} was read. */
    CasOutcome cas(String nodeId, String key, long cas, byte[] value, int expiry) throws StoreException;

    /** @return false when the key was not there */
    boolean touch(String nodeId, String key, int expiry) throws StoreException;

    /** @return false when the key was not there */
    boolean delete(String nodeId, String key) throws StoreException;

    /** Deletes the key only if it still holds the version read with {@link #gets}. */
    boolean deleteIfUnchanged(String nodeId, String key, long cas) throws StoreException;

    /**
     * {@link #deleteIfUnchanged} without waiting for the answer. What this thread sends to the node
     * later is answered after it (one connection, in order); a failure reaches {@code failed}, on
     * another thread, when the node refuses it or the connection drops. A node that hangs answers
     * it when it resumes; until then the health check has marked it down.
     */
    default void deleteIfUnchangedLater(String nodeId, String key, long cas, Consumer<StoreException> failed) {
        try {
            deleteIfUnchanged(nodeId, key, cas);
        } catch (StoreException e) {
            failed.accept(e);
        }
    }

    /** Closes the connections and waits, bounded, for their threads to end. */
    @Override
    void close();

    /**
     * A set on its way to its node, not awaited yet: several can be sent before any is awaited (one
     * round trip of waiting for all), and a caller can wait briefly and leave the rest to another thread.
     */
    interface Sent {
        String nodeId();

        /** @return true when the node answered (or the set failed) within the time given */
        boolean awaitAnswer(long millis);
    }

    /** A read on its way to its node ({@link #ask}). */
    interface Asked {
        /**
         * @return the keys found, or null when the node has not answered within {@code maxMillis}
         *     (the read is left to finish on its own; a node that hangs is found by other operations)
         * @throws StoreException when the read failed
         */
        Map<String, byte[]> await(long maxMillis) throws StoreException;
    }

    /** A value with the CAS token memcached gave it, for a conditional write later. */
    final class Versioned {
        final byte[] value;
        final long cas;

        Versioned(byte[] value, long cas) {
            this.value = value;
            this.cas = cas;
        }
    }

    /** A versioned value and a plain companion value, fetched together. */
    final class Pair {
        final Versioned versioned;
        final byte[] companion;

        Pair(Versioned versioned, byte[] companion) {
            this.versioned = versioned;
            this.companion = companion;
        }
    }

    /** A lock's add, and what was read right behind it while the lock was held. */
    final class LockedRead {
        /** As {@link #addVersioned} returns it: null when the key existed already. */
        final Long lockCas;
        /** Null when the add did not succeed or the read failed. */
        final Pair read;

        LockedRead(Long lockCas, Pair read) {
            this.lockCas = lockCas;
            this.read = read;
        }
    }

    /** What a conditional write found. */
    enum CasOutcome {
        STORED, CHANGED_MEANWHILE, GONE
    }
}

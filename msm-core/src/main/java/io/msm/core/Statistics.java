package io.msm.core;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters of what the engine did, read by the adapter's JMX bean and by tests. */
public final class Statistics {
    /** Each counter; the name is what JMX shows. */
    public enum Counter {
        REQUESTS_IGNORED,
        BACKUPS_STORED,
        BACKUPS_SKIPPED_UNCHANGED,
        BACKUPS_TOUCHED,
        BACKUPS_FAILED,
        BACKUPS_RUN_BY_REQUEST_THREAD,
        BACKUP_WAITS_TIMED_OUT,
        LOADS,
        LOAD_MISSES,
        LOAD_FAILURES,
        UNDECODABLE_SESSIONS,
        /**
         * With encryption on, stored sessions refused: changed in memcached, copied from another
         * session, under a key no longer in the key file, or planted in clear.
         */
        UNAUTHENTIC_SESSIONS,
        RELOCATIONS,
        DELETES,
        DELETE_FAILURES,
        /** Times a node was found empty (restarted, flushed): its sessions are written to it again. */
        NODES_FOUND_EMPTY,
        /** Deletes queued because their node was down: done once it answers, before it serves again. */
        DELETES_DEFERRED,
        NON_STICKY_STORES,
        NON_STICKY_STORES_MERGED,
        NON_STICKY_STORES_SKIPPED,
        VALIDITY_WRITES_SKIPPED,
        BACKUP_READS,
        /** Non-sticky backup copies written again by a read, after their node came back empty. */
        BACKUP_COPIES_REBUILT,
        PRIMARY_COPIES_REBUILT,
        LOCKS_ACQUIRED,
        LOCKS_SKIPPED,
        LOCK_WAITS,
        LOCK_TIMEOUTS,
        LOCK_FAILURES,
        /**
         * Non-sticky locks released after {@code lockExpiration}: memcached dropped them while their
         * request ran, and another Tomcat's locking request may have run alongside it.
         */
        LOCKS_OUTLIVED,
        /** Locks whose add brought the session's read along: one round trip for both. */
        LOCKS_WITH_READ,
        /** Session ids not in msm's form or naming an unknown node: no session, nothing asked of memcached. */
        INVALID_SESSION_IDS,
        /** Sessions not stored because they are larger than msm stores. */
        SESSIONS_TOO_LARGE,
        /** Items memcached or its client refused (too large for the item size, out of memory). */
        ITEMS_REFUSED,
        /**
         * Sticky sessions memcached did not hold when the webapp stopped (no node answered), kept in
         * the JVM and taken back by this start: a reload or redeploy lost none of them.
         */
        SESSIONS_KEPT_OVER_RESTART,
        /** Items memcached nodes evicted (their {@code evictions} statistic): too little memory loses sessions. */
        ITEMS_EVICTED,
        /**
         * Non-sticky sessions this Tomcat served, within their timeout, that neither copy held: evicted
         * or lost with both nodes.
         */
        SESSIONS_MISSING,
        /** Sessions loaded from the copy memcached-session-manager 2.3.2 keeps ({@code compatibility}). */
        MSM2_SESSIONS_READ,
        /** Non-sticky loads that found memcached's bytes unchanged and took the session this Tomcat kept. */
        NEAR_COPIES_USED,
        /** Copies for memcached-session-manager 2.3.2 that could not be made or written ({@code compatibility="msm2"}). */
        MSM2_COPIES_FAILED,
        /** Attributes whose stored bytes an encode reused: provably unchanged since the last encode or load. */
        ATTRIBUTES_REUSED,
        /** Attributes serialized by an encode that could have reused bytes (sticky sync, non-sticky). */
        ATTRIBUTES_ENCODED,
        /**
         * Attributes left out of a stored session because the transcoder cannot store them (not
         * serializable, refused by serialFilter, over a limit): lost at a failover. Counted at every
         * encode that leaves one out; the WARN naming each is logged once.
         */
        ATTRIBUTES_LEFT_OUT,
        SESSIONS_EXPIRED_IN_CLUSTER,
        /** Nodes whose host name pointed at another server, to which msm moved their connection. */
        NODES_MOVED,
        /** Sticky: checks that saw another Tomcat renew a claim on this webapp's jvmRoute (a twin). */
        ROUTE_TWINS,
        /** Non-sticky: checks that found another Tomcat of this webapp listing other memcachedNodes, or in another order. */
        NODE_LISTS_DIFFERENT,
        /** Checks that found another Tomcat of this webapp running the other mode (sticky or non-sticky). */
        MODES_DIFFERENT,
        /**
         * Checks that found another Tomcat of this webapp storing sessions in clear where this one encrypts
         * them (or the other way round), naming them with another key file's secret, or encrypting with a
         * key this one's file lacks.
         */
        ENCRYPTION_DIFFERENT
    }

    private final Map<Counter, LongAdder> counters = new EnumMap<>(Counter.class);
    /** Counters another part keeps (the transcoder's), read through. */
    private final Map<Counter, java.util.function.LongSupplier> kept = new EnumMap<>(Counter.class);
    private final LongAdder backupNanos = new LongAdder();
    private final LongAdder loadNanos = new LongAdder();
    /** Loads timed: found, missing or failed alike, as their time is. */
    private final LongAdder loadsTimed = new LongAdder();

    Statistics() {
        for (Counter c : Counter.values()) {
            counters.put(c, new LongAdder());
        }
    }

    void add(Counter counter, long n) {
        counters.get(counter).add(n);
    }

    void increment(Counter counter) {
        counters.get(counter).increment();
    }

    void addBackupNanos(long nanos) {
        backupNanos.add(nanos);
    }

    void addLoadNanos(long nanos) {
        loadNanos.add(nanos);
        loadsTimed.increment();
    }

    /** {@code counter} is counted by {@code source}, which this reads through. */
    void countedBy(Counter counter, java.util.function.LongSupplier source) {
        kept.put(counter, source);
    }

    public long get(Counter counter) {
        java.util.function.LongSupplier source = kept.get(counter);
        return counters.get(counter).sum() + (source == null ? 0 : source.getAsLong());
    }

    /** @return mean time of a memcached store, in microseconds */
    public long meanBackupMicros() {
        long n = get(Counter.BACKUPS_STORED) + get(Counter.BACKUPS_TOUCHED);
        return n == 0 ? 0 : backupNanos.sum() / n / 1000;
    }

    /**
     * @return mean time of a memcached load, in microseconds: of every load asked, also one that found
     *     nothing or failed, as its time is counted too
     */
    public long meanLoadMicros() {
        long n = loadsTimed.sum();
        return n == 0 ? 0 : loadNanos.sum() / n / 1000;
    }
}

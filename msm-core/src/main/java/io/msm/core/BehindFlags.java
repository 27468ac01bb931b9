package io.msm.core;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Non-sticky mode: whether loads of a node's sessions must ask the backup node for the session's own
 * markers ({@link BackupMarkers}). A Tomcat raises the node's flag on the backup node before it writes
 * one of the node's sessions there alone or ends one there while the node does not answer it. Every
 * Tomcat reads the flags with its health check's probe, once a second. Asking for markers on every
 * load cost a third of non-sticky throughput; nearly always there is none.
 *
 * <p>A probe that found no flag is trusted for {@link #LEASE_MILLIS} from when it was sent; a Tomcat
 * that raises a flag waits as long before its first write that needs it. Then no Tomcat still trusts a
 * probe from before the flag, whether or not its health check ran on time: a late one only makes its
 * loads ask for the markers meanwhile.
 */
final class BehindFlags implements HealthCheck.ProbeKeys {
    /** About two health-check rounds: a round delayed by a slow node does not make every load ask. */
    static final long LEASE_MILLIS = 2 * HealthCheck.INTERVAL_MILLIS;
    /** A flag outlives the newest marker by this much, so that it is not set again on every write. */
    private static final long SLACK_MILLIS = 600_000;
    private static final long MAX_RELATIVE_EXPIRY_MILLIS = 30L * 24 * 3600 * 1000;
    private static final long LEASE_NANOS = TimeUnit.MILLISECONDS.toNanos(LEASE_MILLIS);
    private static final int MAX_ATTEMPTS = 8;

    private final SessionStore store;
    private final NonStickyKeys keys;
    private final Ticker ticker;
    private final Expiry expiry;
    /** Per backup node, the nodes whose flags it holds. */
    private final Map<String, List<String>> flaggedOn = new HashMap<>();
    /** Per node, when the newest probe that found no flag was sent (ticker nanos). */
    private final Map<String, Long> clearSince = new ConcurrentHashMap<>();
    /** Per node, the flag this Tomcat set. */
    private final Map<String, Raised> raised = new ConcurrentHashMap<>();
    /** Per node, the monitor its flag is raised under. */
    private final Map<String, Raising> raising = new HashMap<>();

    private static final class Raising {
        /** When a raise under this monitor last failed (ticker nanos); 0 for never. */
        volatile long failedNanos;
    }

    private static final class Raised {
        /** Wall time until which the flag lives; Long.MAX_VALUE for ever. */
        final long untilMillis;
        /** When it was set (ticker nanos): a probe sent after it that finds no flag means the node lost it. */
        final long setNanos;
        /** Drawn when the flag was added, kept by every extension: another flag has another. */
        final long generation;

        Raised(long untilMillis, long setNanos, long generation) {
            this.untilMillis = untilMillis;
            this.setNanos = setNanos;
            this.generation = generation;
        }
    }

    BehindFlags(SessionStore store, NonStickyKeys keys, List<MemcachedNode> nodes, Ticker ticker, Expiry expiry) {
        this.store = store;
        this.keys = keys;
        this.ticker = ticker;
        this.expiry = expiry;
        for (MemcachedNode node : nodes) {
            String backup = keys.backupNode(node.id());
            if (backup != null) {
                flaggedOn.computeIfAbsent(backup, b -> new ArrayList<>()).add(node.id());
                raising.put(node.id(), new Raising());
            }
        }
    }

    @Override
    public List<String> keysOn(String node) {
        List<String> flagged = flaggedOn.get(node);
        if (flagged == null) {
            return Collections.emptyList();
        }
        List<String> flagKeys = new ArrayList<>(flagged.size());
        for (String n : flagged) {
            flagKeys.add(keys.nodeBehind(n));
        }
        return flagKeys;
    }

    @Override
    public void heard(String node, Map<String, byte[]> found, long sentNanos) {
        for (String n : flaggedOn.getOrDefault(node, Collections.emptyList())) {
            if (found.get(keys.nodeBehind(n)) != null) {
                clearSince.remove(n);
                continue;
            }
            clearSince.put(n, sentNanos);
            Raised r = raised.get(n);
            if (r != null && sentNanos - r.setNanos > 0) {
                raised.remove(n, r); // the backup node lost it (a restart, a flush), with the markers it covered
            }
        }
    }

    /** @return true when the node's sessions may have a newer state or a removal on the backup node */
    boolean mayBeBehind(String node) {
        Raised r = raised.get(node);
        if (r != null && r.untilMillis > expiry.now()) {
            return true;
        }
        Long since = clearSince.get(node);
        return since == null || ticker.nanoTime() - since > LEASE_NANOS;
    }

    /**
     * Raises the node's flag, for at least as long as a marker of the given memcached expiry lives, and
     * returns once no Tomcat trusts a probe from before it.
     *
     * @return false when interrupted while waiting: the marker must not be written
     */
    boolean raise(String node, int markerExpiry) throws StoreException {
        Raised r = raiseNow(node, markerExpiry);
        long waitNanos = r.setNanos + LEASE_NANOS - ticker.nanoTime();
        if (waitNanos > 0) {
            try {
                ticker.sleep(TimeUnit.NANOSECONDS.toMillis(waitNanos) + 1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * After the marker is written: the flag is read back, behind it on the same connection. Gone (the
     * backup node restarted between the two), it is raised and waited for again; the marker written
     * meanwhile is read by nobody until then.
     *
     * @return false when interrupted while waiting
     */
    boolean confirm(String node, int markerExpiry) throws StoreException {
        Raised r = raised.get(node);
        byte[] flag = store.get(keys.backupNode(node), keys.nodeBehind(node));
        if (r != null && (flag == null || generationOf(flag) != r.generation)) {
            raised.remove(node, r); // gone, or raised again by another Tomcat after a loss: wait anew
        }
        return raise(node, markerExpiry);
    }

    /** Raises the flag without waiting: for a marker that a repair sets late, after the request. */
    void raiseLate(String node, int markerExpiry) throws StoreException {
        raiseNow(node, markerExpiry);
    }

    private Raised raiseNow(String node, int markerExpiry) throws StoreException {
        long until = untilMillis(markerExpiry);
        Raised r = raised.get(node);
        if (r != null && r.untilMillis >= until) {
            return r;
        }
        // Held across the network on purpose: a second writer must not go on before the flag is up.
        // Only a Tomcat that cannot reach a node gets here, about once per outage and slack.
        Raising lock = raising.get(node);
        long waitedSince = ticker.nanoTime();
        synchronized (lock) {
            r = raised.get(node);
            if (r != null && r.untilMillis >= until) {
                return r;
            }
            if (lock.failedNanos - waitedSince > 0) {
                // The backup node did not answer the raise this request waited behind: asking it again
                // would make each request in the queue wait its own timeout in turn, minutes for the last.
                throw new StoreException(keys.backupNode(node), "the flag of node " + node + " could not be"
                        + " raised by another request moments ago", null);
            }
            long flagUntil = until == Long.MAX_VALUE ? until : until + SLACK_MILLIS;
            long[] before;
            try {
                before = extend(node, flagUntil);
            } catch (StoreException | RuntimeException e) {
                lock.failedNanos = ticker.nanoTime();
                throw e;
            }
            long end = Math.max(before[0], flagUntil);
            // The flag as this Tomcat left it needs no new wait: nobody trusted its absence since. Any
            // other (gone, or raised by another Tomcat, maybe after a restart) counts from now.
            boolean same = r != null && before[1] == r.generation;
            Raised fresh = new Raised(end, same ? r.setNanos : ticker.nanoTime(), before[1]);
            if (r == null ? raised.putIfAbsent(node, fresh) != null : !raised.replace(node, r, fresh)) {
                fresh = new Raised(end, ticker.nanoTime(), before[1]); // a probe found it gone meanwhile
                raised.put(node, fresh);
            }
            return fresh;
        }
    }

    /**
     * Makes the flag live until then at least, never shorter: other Tomcats raise it for their own
     * markers. The flag holds its end and its generation, and is extended by compare-and-set, so
     * that two raisers cannot shorten each other's.
     *
     * @return the flag's end before (-1 when it was not up), and its generation
     */
    private long[] extend(String node, long untilMillis) throws StoreException {
        String backup = keys.backupNode(node);
        String key = keys.nodeBehind(node);
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            SessionStore.Versioned current = store.gets(backup, key);
            if (current == null) {
                long generation = java.util.concurrent.ThreadLocalRandom.current().nextLong();
                if (store.add(backup, key, flag(untilMillis, generation), memcachedExpiry(untilMillis))) {
                    return new long[] {-1, generation};
                }
                continue;
            }
            long end = endOf(current.value);
            long generation = generationOf(current.value);
            if (end >= untilMillis || store.cas(backup, key, current.cas, flag(untilMillis, generation),
                    memcachedExpiry(untilMillis)) == SessionStore.CasOutcome.STORED) {
                return new long[] {end, generation};
            }
        }
        throw new StoreException(backup, "the flag of node " + node + " changed on each of " + MAX_ATTEMPTS
                + " attempts to raise it", null);
    }

    private static byte[] flag(long untilMillis, long generation) {
        return ByteBuffer.allocate(16).putLong(untilMillis).putLong(generation).array();
    }

    /** A flag that does not read as one (written by something else) ends at once: it is raised again. */
    private static long endOf(byte[] value) {
        return value != null && value.length == 16 ? ByteBuffer.wrap(value).getLong() : 0;
    }

    private static long generationOf(byte[] value) {
        return value != null && value.length == 16 ? ByteBuffer.wrap(value).getLong(8) : 0;
    }

    private long untilMillis(int memcachedExpiry) {
        if (memcachedExpiry == 0) {
            return Long.MAX_VALUE;
        }
        long millis = memcachedExpiry * 1000L;
        return millis > MAX_RELATIVE_EXPIRY_MILLIS ? millis : expiry.now() + millis;
    }

    private int memcachedExpiry(long untilMillis) {
        if (untilMillis == Long.MAX_VALUE) {
            return 0;
        }
        long relative = untilMillis - expiry.now();
        return relative <= MAX_RELATIVE_EXPIRY_MILLIS ? (int) Math.max(1, (relative + 999) / 1000)
                : (int) Math.min(Integer.MAX_VALUE, untilMillis / 1000);
    }
}

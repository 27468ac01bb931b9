package io.msm.serializers;

import java.util.concurrent.TimeUnit;

/**
 * What decoding one session may still spend, beyond the size limits of {@link SerialFilter}:
 *
 * <ul>
 * <li>{@code maxrefs}: objects and references read (nulls and class descriptions included, as the
 * JDK's own stream filter counts them), for all attributes together;</li>
 * <li>{@code maxhashwork}: steps of hashCode() that rebuilding hash-based collections takes. A
 * HashSet, HashMap, Hashtable or ConcurrentHashMap hashes every key again while it is read, with
 * no filter callback in between, and a few kilobytes of nested sets that share their elements
 * make that exponential (minutes of CPU). So before a key is hashed its cost is bounded from what
 * it reaches ({@link HashCost}) and charged here. One key may cost at most a 32nd of the whole
 * (a million steps by default: a key an application hashes takes microseconds, not the tens of
 * milliseconds a million steps take), so that a reader who rebuilds as it goes, as Kryo does,
 * has hashed little when the limit is reached;</li>
 * <li>{@code maxmillis}: a deadline, checked at every object (the clock is read at every 64th, and
 * at every one once hashing has become costly), for whatever the two above do not foresee.</li>
 * </ul>
 *
 * Exceeding any of them rejects the whole session ({@link RejectedContentException}). One per
 * decode, shared by its attributes and by the Java streams nested in Kryo; one thread uses it.
 */
public final class DecodeGuard {
    /** Hashing work from which the clock is read at every object: each may now cost that much. */
    private static final long WATCHFUL = 1L << 16;

    private final SerialFilter filter;
    private final boolean active;
    private final long deadline;
    private long refs;
    private long hashWork;
    private long loopCharged;
    private int ticks;
    private ObjectHashCost objects;

    private DecodeGuard(SerialFilter filter) {
        this.filter = filter;
        this.active = filter.isChecking();
        this.deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(filter.maxMillis());
    }

    /** The clock starts now. */
    public static DecodeGuard start(SerialFilter filter) {
        return new DecodeGuard(filter);
    }

    /** @return false for the benchmarks' unchecked filter, which limits nothing */
    public boolean isActive() {
        return active;
    }

    public SerialFilter filter() {
        return filter;
    }

    /** Before each attribute: a stack overflow while hashing a cycle ends the attribute it happens in. */
    public void beginAttribute() {
        loopCharged = 0;
        tick();
    }

    /** Counts objects or references read, and now and then reads the clock. */
    public void countRefs(long n) {
        if (!active) {
            return;
        }
        refs += n;
        if (refs > filter.maxRefs()) {
            throw RejectedContentException.limit("more than " + SerialFilter.ATTRIBUTE + " maxrefs=" + filter.maxRefs()
                    + " objects and references");
        }
        tick();
    }

    /** Reads the clock at every 64th call, or at every call once hashing has become costly. */
    public void tick() {
        if (active && ((++ticks & 63) == 0 || hashWork > WATCHFUL)) {
            checkTime();
        }
    }

    /** @throws RejectedContentException once the deadline has passed */
    public void checkTime() {
        if (active && System.nanoTime() - deadline > 0) {
            throw RejectedContentException.timeLimit("decoding took longer than " + SerialFilter.ATTRIBUTE + " maxmillis="
                    + filter.maxMillis());
        }
    }

    /** @return the hashing steps still allowed */
    public long hashBudget() {
        return active ? filter.maxHashWork() - hashWork : Long.MAX_VALUE / 8;
    }

    /** @return how much repetition of a cycle this attribute has been charged */
    long loopCharged() {
        return loopCharged;
    }

    /** @return what costing one key may look at: its own limit, or what is left, whichever is less */
    long keyBudget() {
        return Math.min(hashBudget(), maxKeyWork());
    }

    /** @return the steps one key may cost */
    public long maxKeyWork() {
        return Math.max(1, filter.maxHashWork() / 32);
    }

    /**
     * Charges the hashing of one key or element.
     *
     * @param costs the {@link HashCost} that costed it: its cost, the repetition of a cycle included
     * @param container the class of the collection that hashes it, for the message
     */
    void chargeHash(long cost, HashCost costs, String container) {
        if (!active) {
            return;
        }
        if (cost - costs.loopExtra() > maxKeyWork()) {
            throw RejectedContentException.limit("one key or element of a " + container + " would take more than "
                    + maxKeyWork() + " steps to hash (" + SerialFilter.ATTRIBUTE + " maxhashwork="
                    + filter.maxHashWork() + " allows a 32nd of it per key)");
        }
        hashWork += cost;
        if (cost > filter.maxHashWork() || hashWork > filter.maxHashWork()) {
            throw RejectedContentException.limit("hashing the keys and elements of hash-based collections (here of a "
                    + container + ") would take more than " + SerialFilter.ATTRIBUTE + " maxhashwork="
                    + filter.maxHashWork() + " steps");
        }
        long loopNeed = costs.loopNeed();
        if (loopNeed > loopCharged) {
            loopCharged = loopNeed;
        }
    }

    /**
     * Bounds and charges the hashing of an object that a collection of class {@code container} is
     * about to hash (Kryo's collections and maps: msm reads them, so it can look first).
     */
    public void hashing(Object key, Class<?> container) {
        if (!active || key == null) {
            return;
        }
        if (key instanceof String || HashShapes.shape(key.getClass()) == HashShapes.LEAF) {
            chargeLeaf();
            return;
        }
        if (objects == null) {
            objects = new ObjectHashCost();
        }
        long cost = objects.cost(key, keyBudget(), loopCharged);
        chargeHash(cost, objects, container.getName());
    }

    /** @return what has been counted and charged so far, for {@link #restore} */
    long[] mark() {
        return new long[] {refs, hashWork, loopCharged};
    }

    /** Forgets what was counted since {@link #mark}: bytes that were read a second way. */
    void restore(long[] mark) {
        refs = mark[0];
        hashWork = mark[1];
        loopCharged = mark[2];
    }

    /** Charges a key that is a leaf: one step. */
    void chargeLeaf() {
        if (active && ++hashWork > filter.maxHashWork()) {
            throw RejectedContentException.limit("hashing the keys and elements of hash-based collections would take"
                    + " more than " + SerialFilter.ATTRIBUTE + " maxhashwork=" + filter.maxHashWork() + " steps");
        }
    }
}

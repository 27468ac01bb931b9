package io.msm.core;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What requests changed in a session through its API: attributes set and removed, the login, the
 * timeout. When another Tomcat stored the session meanwhile, exactly these are applied to its
 * newer copy, so parallel requests changing different attributes never lose each other's work.
 *
 * <p>One lives beside every session in memory, and most sessions are between requests with no
 * change: then it holds no map at all (a cleared {@link HashMap} would keep its table).
 */
public final class SessionChanges {
    /** Attribute name to true when set, false when removed; null while there is none. Guarded by this. */
    private Map<String, Boolean> attributes;
    private volatile boolean principalChanged;
    private volatile boolean maxInactiveChanged;
    /** Changes recorded since the session was loaded, never reset by {@link #clear}. */
    private volatile long recorded;

    public synchronized void attributeSet(String name) {
        attributes().put(name, Boolean.TRUE);
        recorded++;
    }

    public synchronized void attributeRemoved(String name) {
        attributes().put(name, Boolean.FALSE);
        recorded++;
    }

    private Map<String, Boolean> attributes() {
        if (attributes == null) {
            attributes = new HashMap<>(4);
        }
        return attributes;
    }

    public synchronized void principalChanged() {
        principalChanged = true;
        recorded++;
    }

    public synchronized void maxInactiveChanged() {
        maxInactiveChanged = true;
        recorded++;
    }

    /** The session's id changed (a login): nothing for a merge to apply, a change to store all the same. */
    public synchronized void renamed() {
        recorded++;
    }

    /**
     * @return how many changes were recorded so far, never reset: a request compares it at its start
     *     and end to learn whether its session changed meanwhile
     */
    public long recorded() {
        return recorded;
    }

    /**
     * For a store while parallel requests still change the session: what was recorded until now,
     * which this keeps too. Every store until the last request's end merges every change since the
     * load, since a copy it merges with may lack what an earlier such store wrote.
     */
    public synchronized SessionChanges copy() {
        SessionChanges copy = new SessionChanges();
        copy.attributes = attributes == null ? null : new HashMap<>(attributes);
        copy.principalChanged = principalChanged;
        copy.maxInactiveChanged = maxInactiveChanged;
        copy.recorded = recorded;
        return copy;
    }

    public boolean isEmpty() {
        synchronized (this) {
            if (attributes != null) {
                return false;
            }
        }
        return !principalChanged && !maxInactiveChanged;
    }

    /**
     * Clears the changes, unless one was recorded since {@code recorded} was read: that one is not done.
     *
     * @return true when cleared
     */
    public synchronized boolean clearIfUnchangedSince(long recorded) {
        if (this.recorded == recorded) {
            clear();
            return true;
        }
        return false;
    }

    public void clear() {
        synchronized (this) {
            attributes = null;
        }
        principalChanged = false;
        maxInactiveChanged = false;
    }

    Set<String> set() {
        return names(true);
    }

    Set<String> removed() {
        return names(false);
    }

    private synchronized Set<String> names(boolean set) {
        Set<String> names = new HashSet<>();
        if (attributes != null) {
            for (Map.Entry<String, Boolean> e : attributes.entrySet()) {
                if (e.getValue() == set) {
                    names.add(e.getKey());
                }
            }
        }
        return names;
    }

    boolean isPrincipalChanged() {
        return principalChanged;
    }

    boolean isMaxInactiveChanged() {
        return maxInactiveChanged;
    }
}

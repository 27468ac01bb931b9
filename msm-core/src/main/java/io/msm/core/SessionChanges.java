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
    /**
     * Attribute name to the count ({@link #recorded}) at its last change, positive when set and
     * negative when removed; null while there is none. Guarded by this. The count lets a store after
     * one that reached the session's node apply only what came after it.
     */
    private Map<String, Long> attributes;
    /** The count at the last login and timeout change; 0 for none since the last {@link #clear}. */
    private volatile long principalChangedAt;
    private volatile long maxInactiveChangedAt;
    /** Changes recorded since the session was loaded, never reset by {@link #clear}. */
    private volatile long recorded;

    public synchronized void attributeSet(String name) {
        attributes().put(name, ++recorded);
    }

    public synchronized void attributeRemoved(String name) {
        attributes().put(name, -++recorded);
    }

    private Map<String, Long> attributes() {
        if (attributes == null) {
            attributes = new HashMap<>(4);
        }
        return attributes;
    }

    public synchronized void principalChanged() {
        principalChangedAt = ++recorded;
    }

    public synchronized void maxInactiveChanged() {
        maxInactiveChangedAt = ++recorded;
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
     * which this keeps too, for a store that does not reach the session's node. Once one does, later
     * merges apply only what was recorded after it ({@link #set(long)}): the node's copy holds the
     * rest, or another Tomcat's later change of it, which must win.
     */
    public synchronized SessionChanges copy() {
        SessionChanges copy = new SessionChanges();
        copy.attributes = attributes == null ? null : new HashMap<>(attributes);
        copy.principalChangedAt = principalChangedAt;
        copy.maxInactiveChangedAt = maxInactiveChangedAt;
        copy.recorded = recorded;
        return copy;
    }

    public boolean isEmpty() {
        synchronized (this) {
            if (attributes != null) {
                return false;
            }
        }
        return principalChangedAt == 0 && maxInactiveChangedAt == 0;
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
        principalChangedAt = 0;
        maxInactiveChangedAt = 0;
    }

    Set<String> set() {
        return set(0);
    }

    Set<String> removed() {
        return removed(0);
    }

    /** @return the names whose last change was a set recorded after the count {@code after} */
    Set<String> set(long after) {
        return names(true, after);
    }

    /** @return the names whose last change was a removal recorded after the count {@code after} */
    Set<String> removed(long after) {
        return names(false, after);
    }

    private synchronized Set<String> names(boolean set, long after) {
        Set<String> names = new HashSet<>();
        if (attributes != null) {
            for (Map.Entry<String, Long> e : attributes.entrySet()) {
                long at = e.getValue();
                if (set ? at > after : -at > after) {
                    names.add(e.getKey());
                }
            }
        }
        return names;
    }

    boolean isPrincipalChanged() {
        return principalChangedAt != 0;
    }

    boolean isMaxInactiveChanged() {
        return maxInactiveChangedAt != 0;
    }

    /** @return true when the login changed after the count {@code after} */
    boolean isPrincipalChanged(long after) {
        return principalChangedAt > after;
    }

    /** @return true when the timeout changed after the count {@code after} */
    boolean isMaxInactiveChanged(long after) {
        return maxInactiveChangedAt > after;
    }
}

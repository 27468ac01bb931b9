package io.msm.core;

import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

/**
 * What requests changed in a session through its API: attributes set and removed, the login, the
 * timeout. When another Tomcat stored the session meanwhile, exactly these are applied to its
 * newer copy, so parallel requests changing different attributes never lose each other's work.
 */
public final class SessionChanges {
    private final Set<String> set = Collections.synchronizedSet(new HashSet<String>());
    private final Set<String> removed = Collections.synchronizedSet(new HashSet<String>());
    private volatile boolean principalChanged;
    private volatile boolean maxInactiveChanged;

    public void attributeSet(String name) {
        removed.remove(name);
        set.add(name);
    }

    public void attributeRemoved(String name) {
        set.remove(name);
        removed.add(name);
    }

    public void principalChanged() {
        principalChanged = true;
    }

    public void maxInactiveChanged() {
        maxInactiveChanged = true;
    }

    public boolean isEmpty() {
        return set.isEmpty() && removed.isEmpty() && !principalChanged && !maxInactiveChanged;
    }

    public void clear() {
        set.clear();
        removed.clear();
        principalChanged = false;
        maxInactiveChanged = false;
    }

    Set<String> set() {
        synchronized (set) {
            return new HashSet<>(set);
        }
    }

    Set<String> removed() {
        synchronized (removed) {
            return new HashSet<>(removed);
        }
    }

    boolean isPrincipalChanged() {
        return principalChanged;
    }

    boolean isMaxInactiveChanged() {
        return maxInactiveChanged;
    }
}

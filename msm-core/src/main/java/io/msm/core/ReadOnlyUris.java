package io.msm.core;

import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@code lockingMode="auto"} has learned: URIs whose requests never changed a session. A URI
 * counts as read-only after it was seen twice without a change; one change makes it locking again.
 * Bounded, so a site with endless distinct URIs does not grow the heap: past the bound, unknown
 * URIs simply lock.
 */
final class ReadOnlyUris {
    private static final int SEEN_TO_TRUST = 2;
    private static final int MAX_URIS = 10_000;
    private static final int WRITES = -1;

    private final ConcurrentHashMap<String, Integer> readOnlySeen = new ConcurrentHashMap<>();

    boolean isReadOnly(String uri) {
        Integer seen = readOnlySeen.get(uri);
        return seen != null && seen >= SEEN_TO_TRUST;
    }

    void learn(String uri, boolean changedSession) {
        if (changedSession) {
            readOnlySeen.put(uri, WRITES);
        } else if (readOnlySeen.size() < MAX_URIS || readOnlySeen.containsKey(uri)) {
            readOnlySeen.merge(uri, 1, (old, one) -> old == WRITES ? WRITES : old + one);
        }
    }
}

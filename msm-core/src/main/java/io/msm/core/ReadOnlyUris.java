package io.msm.core;

import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@code lockingMode="auto"} has learned: URIs whose requests never changed a session. A URI
 * counts as read-only after it was seen twice without a change; one change makes it locking again.
 * Bounded by count and by URI length, so a site with endless distinct URIs does not grow the heap:
 * past the bounds, unknown URIs simply lock.
 */
final class ReadOnlyUris {
    private static final int SEEN_TO_TRUST = 2;
    static final int MAX_URIS = 10_000;
    static final int MAX_URI_LENGTH = 512;
    private static final int WRITES = -1;

    private final ConcurrentHashMap<String, Integer> readOnlySeen = new ConcurrentHashMap<>();

    int size() {
        return readOnlySeen.size();
    }

    boolean isReadOnly(String uri) {
        Integer seen = readOnlySeen.get(uri);
        return seen != null && seen >= SEEN_TO_TRUST;
    }

    void learn(String uri, boolean changedSession) {
        if (uri.length() > MAX_URI_LENGTH) {
            return; // never learned, so always locking: a long query string is no page to remember
        }
        if (readOnlySeen.containsKey(uri) || readOnlySeen.size() < MAX_URIS) {
            // Writes count against the bound too: every request with a fresh query string that
            // creates or changes a session would otherwise add an entry for good.
            readOnlySeen.merge(uri, changedSession ? WRITES : 1,
                    (old, now) -> old == WRITES || now == WRITES ? WRITES : old + now);
        }
    }
}

package io.msm.core;

import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@code lockingMode="auto"} has learned: URIs whose requests never changed a session, per
 * HTTP method (a POST is never read-only because GETs to its URI were). A URI
 * counts as read-only after it was seen twice without a change; one change makes it locking again.
 * Bounded by count and by URI length, so a site with endless distinct URIs does not grow the heap.
 * <p>
 * The count bound works in two generations: URIs are learned into the current one, and when it is
 * full it becomes the previous one and the one before is forgotten. A URI seen again while it sits
 * in the previous generation moves into the current one with what was learned of it, so the pages
 * in use stay while one-off URIs (cache-busting query strings, a scan) age out. A bound that simply
 * stopped learning, as before, made every URI first seen after it lock until the webapp restarted.
 * Forgetting costs little: a forgotten URI locks until it is seen twice again, as after a restart.
 */
final class ReadOnlyUris {
    private static final int SEEN_TO_TRUST = 2;
    static final int MAX_URIS = 10_000;
    static final int MAX_URI_LENGTH = 512;
    private static final int WRITES = -1;

    /** The two generations, swapped as one so that a reader never sees a URI in neither. */
    private static final class Generations {
        final ConcurrentHashMap<String, Integer> current = new ConcurrentHashMap<>();
        final ConcurrentHashMap<String, Integer> previous;

        Generations(ConcurrentHashMap<String, Integer> previous) {
            this.previous = previous;
        }
    }

    private volatile Generations generations = new Generations(new ConcurrentHashMap<>());

    /** @return URIs remembered, in both generations (a URI that moved may count twice for a moment) */
    int size() {
        Generations g = generations;
        return g.current.size() + g.previous.size();
    }

    /** @param method the HTTP method: learned apart, so that no GET teaches a POST to the same URI */
    boolean isReadOnly(String method, String uri) {
        return uri.length() <= MAX_URI_LENGTH && isReadOnly(method + ' ' + uri);
    }

    private boolean isReadOnly(String uri) {
        Generations g = generations;
        Integer seen = g.current.get(uri);
        if (seen == null) {
            seen = g.previous.get(uri);
        }
        return seen != null && seen >= SEEN_TO_TRUST;
    }

    void learn(String method, String uri, boolean changedSession) {
        if (uri.length() > MAX_URI_LENGTH) {
            return; // never learned, so always locking: a long query string is no page to remember
        }
        learn(method + ' ' + uri, changedSession);
    }

    private void learn(String uri, boolean changedSession) {
        int value = changedSession ? WRITES : 1;
        Generations g = generations;
        if (!g.current.containsKey(uri)) {
            // Read before any aging below, which forgets the previous generation.
            Integer before = g.previous.get(uri);
            if (before != null) {
                value = combine(before, value); // what the previous generation knew moves with it
            }
            // Writes count against the bound too: every request with a fresh query string that
            // creates or changes a session would otherwise add an entry for good.
            if (g.current.size() >= MAX_URIS / 2) {
                g = nextGeneration(g);
            }
        }
        g.current.merge(uri, value, ReadOnlyUris::combine);
        Generations now = generations;
        if (changedSession && now != g) {
            // Aged meanwhile, and the URI may have moved ahead of this write: a change must not be lost.
            now.current.merge(uri, WRITES, ReadOnlyUris::combine);
        }
    }

    private static Integer combine(Integer old, Integer now) {
        return old == WRITES || now == WRITES ? WRITES : old + now;
    }

    private synchronized Generations nextGeneration(Generations full) {
        if (generations == full) { // else another thread aged it already
            generations = new Generations(full.current);
        }
        return generations;
    }
}

package io.msm.core;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;

/**
 * Checks a session id from a cookie or URL against the form msm gives ids, before anything uses it:
 * {@code <random>-<nodeId>[.<jvmRoute>]} with a hexadecimal random part of the container's length,
 * a node of {@code memcachedNodes} and a route of plain characters. Anything else is no session,
 * quietly: it is counted, and logged at most once a minute per kind, never in full. Such an id so
 * never reaches memcached, where a key the client refuses would look like a node failure, nor
 * names a node that does not exist.
 */
final class SessionIdFormat {
    private static final Logger LOG = Logs.get(SessionIdFormat.class);
    /** The shortest random part accepted: Tomcat's own generator writes 32 characters by default. */
    static final int MIN_RANDOM = 16;
    static final int MAX_ROUTE = 64;

    private final Set<String> nodeIds = new HashSet<>();
    /** Node ids of refused ids since the last WARN about them, with how many; a few names at most. */
    private final java.util.Map<String, Integer> unknownNodes = new java.util.TreeMap<>();
    private final int minRandom;
    private final int maxRandom;
    private final int maxNodeId;
    private final Statistics statistics;
    private final OncePerMinute logLimit;
    /** The node of ids that name none (a single host:port), or null. */
    private final String implicitNode;

    /** @param randomLength the length of the random part the container generates */
    SessionIdFormat(List<MemcachedNode> nodes, int randomLength, Statistics statistics, OncePerMinute logLimit) {
        this.implicitNode = MemcachedNodes.implicitNode(nodes);
        int longest = 0;
        for (MemcachedNode node : nodes) {
            nodeIds.add(node.id());
            longest = Math.max(longest, node.id().length());
        }
        this.maxNodeId = longest;
        // Room for a longer random part too, so that changing the container's length keeps sessions;
        // and a container configured for shorter ids than the default gets its own.
        this.minRandom = Math.min(MIN_RANDOM, randomLength);
        this.maxRandom = Math.max(2 * randomLength, 64);
        this.statistics = statistics;
        this.logLimit = logLimit;
    }

    /** @return the longest id this check lets through */
    int maxLength() {
        return maxRandom + 1 + maxNodeId + 1 + MAX_ROUTE;
    }

    /** @return the parsed id, or null when it is not one of msm's ids for this cluster */
    SessionId check(String text) {
        if (text == null) {
            return null;
        }
        if (text.length() > maxLength()) {
            return refused("too long", text.length() + " characters");
        }
        SessionId id = SessionId.parse(text, implicitNode);
        if (id == null) {
            return refused("not in msm's form <random>-<node>[.<route>]", masked(text));
        }
        int random = id.randomLength(); // checked in place: every request's id passes here
        if (random < minRandom || random > maxRandom || !isHex(text, random)) {
            return refused("a random part that is not " + minRandom + " to " + maxRandom + " hexadecimal digits",
                    printable(id.masked()));
        }
        String routeProblem = routeProblem(id.jvmRoute());
        if (routeProblem != null) {
            return refused(routeProblem, printable(id.masked()));
        }
        if (!nodeIds.contains(id.nodeId())) {
            unknownNode(id);
            return null;
        }
        return id;
    }

    /**
     * The id of a session this Tomcat holds in memory: its form is checked, its node is not, since
     * the node may have left {@code memcachedNodes} after the session was made (a session kept over
     * the redeploy that removed it). Quiet: the session's id was checked in full when it was made.
     *
     * @return the parsed id, or null when it is not in msm's form
     */
    SessionId checkHeld(String text) {
        SessionId id = text == null || text.length() > maxRandom + 2 + 2 * MAX_ROUTE ? null
                : SessionId.parse(text, implicitNode);
        return id != null && routeProblem(id.jvmRoute()) == null ? id : null;
    }

    /** @return null for a route msm accepts in an id, else what is wrong with it */
    static String routeProblem(String route) {
        if (route == null || route.isEmpty() || route.length() <= MAX_ROUTE && isPlain(route)) {
            return null;
        }
        return "a route that is not 1 to " + MAX_ROUTE + " letters, digits, '.', '-' or '_'";
    }

    /**
     * An id in msm's form whose node is not in {@code memcachedNodes}: made up, or the session of a
     * node removed or renamed since. The second logs users out; a WARN says so, naming the node ids
     * seen (at most a few: anyone can send ids) and how many, at most once a minute.
     */
    private void unknownNode(SessionId id) {
        statistics.increment(Statistics.Counter.INVALID_SESSION_IDS);
        String node = id.nodeId().length() <= MAX_ROUTE && isPlain(id.nodeId()) ? id.nodeId() : "?";
        synchronized (unknownNodes) {
            if (unknownNodes.size() < 5 || unknownNodes.containsKey(node)) {
                unknownNodes.merge(node, 1, Integer::sum);
            } else {
                unknownNodes.merge("others", 1, Integer::sum);
            }
            if (logLimit == null || !logLimit.allow("unknown node")) {
                return;
            }
            LOG.warn("requests carried session ids of memcached nodes that are not in memcachedNodes {} (e.g. {}):"
                    + " each was treated as no session, and its user logged out. If such a node was removed or"
                    + " renamed, its sessions are lost; see \"Changing memcachedNodes\" in msm's README. Such ids"
                    + " are counted in INVALID_SESSION_IDS; this line repeats at most once a minute", unknownNodes,
                    printable(id.masked()));
            unknownNodes.clear();
        }
    }

    private SessionId refused(String kind, String shown) {
        statistics.increment(Statistics.Counter.INVALID_SESSION_IDS);
        if (logLimit != null && logLimit.allow(kind)) {
            LOG.info("a request carried a session id with {} ({}); it is treated as no session. Such ids are"
                    + " counted in INVALID_SESSION_IDS and this line repeats at most once a minute", kind, shown);
        }
        return null;
    }

    /** For an id that does not parse: its length and last characters only, printable. */
    private static String masked(String text) {
        return text.length() + " characters, ending …" + printable(text.substring(Math.max(0, text.length() - 4)));
    }

    /** What came from a request, fit for a log line: anything unprintable as '?', at most 100 characters. */
    private static String printable(String s) {
        String shown = s.length() > 100 ? s.substring(0, 100) + "…" : s;
        return shown.replaceAll("[^\\x21-\\x7e…]", "?");
    }

    /** @return true when the first {@code length} characters of {@code s} are hexadecimal digits */
    static boolean isHex(String s, int length) {
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isPlain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '.' || c == '-'
                    || c == '_')) {
                return false;
            }
        }
        return true;
    }
}

package io.msm.core;

/**
 * A session id that names the memcached node holding the session: {@code <random>-<nodeId>[.<jvmRoute>]}.
 * Reading a session therefore never needs a hash ring, and moving it to another node or Tomcat is a
 * rename. Node ids contain neither '-' nor '.', so the first '.' starts the route (which may hold
 * '-') and the last '-' before it starts the node id.
 */
public final class SessionId {
    /** Node ids and routes are few: one string each, shared by every id, instead of one per session. */
    private static final java.util.concurrent.ConcurrentMap<String, String> PARTS =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Crafted ids could name any node or route: beyond this many, parts are not shared. */
    private static final int MAX_SHARED_PARTS = 1024;
    private static final int MAX_SHARED_LENGTH = 64;

    /** Where the random part of {@link #text} ends: made again when asked, which is rare (renames, logs). */
    private final int randomEnd;
    private final String nodeId;
    private final String jvmRoute;
    /** The id as the cookie carries it; built once, since every key and comparison uses it. */
    private final String text;
    /** False for an id of a single {@code host:port} node that names no node, as 2.3.2 gave them. */
    private final boolean nodeShown;
    /** Its keyed hash ({@link SessionNames}), made once per id rather than once per key a request uses. */
    private volatile Hashed hashed;

    /** A name with the names object that made it: ids are not shared between engines, but may be. */
    private static final class Hashed {
        final Object by;
        final String name;

        Hashed(Object by, String name) {
            this.by = by;
            this.name = name;
        }
    }

    /** @param randomEnd the random part's length: every form begins with it */
    private SessionId(int randomEnd, String nodeId, String jvmRoute, String text, boolean nodeShown) {
        this(randomEnd, nodeId, jvmRoute, text, nodeShown, true);
    }

    /**
     * @param share false for an id as a client sent it: its parts are shared only when an id msm made
     *     has them already. Crafted ids naming 1,024 made-up routes filled the table for every webapp in
     *     the JVM, and a node or route added later was not shared any more.
     */
    private SessionId(int randomEnd, String nodeId, String jvmRoute, String text, boolean nodeShown, boolean share) {
        this.nodeShown = nodeShown;
        this.randomEnd = randomEnd;
        this.nodeId = shared(nodeId, share);
        this.jvmRoute = shared(jvmRoute, share);
        this.text = text;
    }

    private static String shared(String part, boolean add) {
        if (part == null) {
            return null;
        }
        String known = PARTS.get(part);
        if (known != null) {
            return known;
        }
        if (!add || PARTS.size() >= MAX_SHARED_PARTS || part.length() > MAX_SHARED_LENGTH) {
            return part;
        }
        known = PARTS.putIfAbsent(part, part);
        return known == null ? part : known;
    }

    public static SessionId of(String random, String nodeId, String jvmRoute) {
        String route = jvmRoute == null || jvmRoute.isEmpty() ? null : jvmRoute;
        return new SessionId(random.length(), nodeId, route,
                random + "-" + nodeId + (route == null ? "" : "." + route), true);
    }

    /**
     * An id that does not name its node, {@code <random>[.<jvmRoute>]}: memcached-session-manager
     * 2.3.2's form with a single {@code host:port} node, the one node it is on.
     */
    public static SessionId withoutNode(String random, String nodeId, String jvmRoute) {
        String route = jvmRoute == null || jvmRoute.isEmpty() ? null : jvmRoute;
        return new SessionId(random.length(), nodeId, route, random + (route == null ? "" : "." + route), false);
    }

    /**
     * @param implicitNode the node an id without one is on (a single {@code host:port}), or null when
     *     every id must name its node
     * @return null when the id is not in msm's form
     */
    public static SessionId parse(String id, String implicitNode) {
        if (id == null) {
            return null;
        }
        // Indexes into the id rather than substrings: every request's id is parsed.
        int dot = id.indexOf('.');
        int headEnd = dot < 0 ? id.length() : dot;
        String route = dot < 0 ? null : id.substring(dot + 1);
        if (route != null && route.isEmpty()) {
            return null;
        }
        int dash = id.lastIndexOf('-', headEnd - 1);
        if (dash < 0 && implicitNode != null && headEnd > 0) {
            return new SessionId(headEnd, implicitNode, route, id, false, false);
        }
        if (dash <= 0 || dash == headEnd - 1) {
            return null;
        }
        return new SessionId(dash, id.substring(dash + 1, headEnd), route, id, true, false);
    }

    /**
     * @return why ids made with this container route would be refused at their next request (null
     *     when they would not): the route is part of a sticky session's id
     */
    public static String routeProblem(String jvmRoute) {
        return SessionIdFormat.routeProblem(jvmRoute);
    }

    /** @return true when the container's generator gives ids msm accepts: hexadecimal digits only */
    public static boolean isHexRandom(String random) {
        return random != null && !random.isEmpty() && SessionIdFormat.isHex(random, random.length());
    }

    /** @return null when the id is not in msm's form (a session of another manager, or garbage) */
    public static SessionId parse(String id) {
        return parse(id, null);
    }

    /** @return the keyed hash {@code by} made of this id before, or null */
    String hashedName(Object by) {
        Hashed h = hashed;
        return h != null && h.by == by ? h.name : null;
    }

    void hashedName(Object by, String name) {
        hashed = new Hashed(by, name);
    }

    public String random() {
        return text.substring(0, randomEnd);
    }

    /** @return the length of {@link #random}, which begins the id's text, without making it */
    int randomLength() {
        return randomEnd;
    }

    public String nodeId() {
        return nodeId;
    }

    /** @return null when the id carries no route */
    public String jvmRoute() {
        return jvmRoute;
    }

    public SessionId withNode(String newNodeId) {
        return of(random(), newNodeId, jvmRoute);
    }

    public SessionId withRoute(String newRoute) {
        return nodeShown ? of(random(), nodeId, newRoute) : withoutNode(random(), nodeId, newRoute);
    }

    /** A form fit for logs: enough to correlate, too little to hijack the session. */
    public static String masked(String id) {
        SessionId parsed = parse(id);
        if (parsed == null) {
            return id == null ? "null" : "…" + id.substring(Math.max(0, id.length() - 4));
        }
        return parsed.masked();
    }

    /** As {@link #masked(String)}. */
    public String masked() {
        // Four characters of a 32-character id; none of an id too short to spare any.
        return "…" + (randomEnd >= 16 ? text.substring(randomEnd - 4, randomEnd) : "")
                + (nodeShown ? "-" + nodeId : "") + (jvmRoute == null ? "" : "." + jvmRoute);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SessionId && text.equals(((SessionId) o).text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    /** @return the id as the cookie carries it */
    @Override
    public String toString() {
        return text;
    }
}

package io.msm.core;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.slf4j.Logger;

/**
 * Non-sticky mode keeps each session's backup copy on the node after its own in memcachedNodes, so
 * every Tomcat of a webapp must list the same node ids in the same order. Tomcats that disagree
 * write and read backup copies on different nodes, and a failover finds none, without an error
 * anywhere. So each engine leaves its list on every node it uses, every {@link #REFRESH_MILLIS};
 * one that finds another list there says so in an ERROR line once a minute, and counts it. During a
 * rolling change of the list this is expected until every Tomcat restarted.
 */
final class NodeListCheck implements Runnable {
    private static final Logger LOG = Logs.get(NodeListCheck.class);
    static final long REFRESH_MILLIS = 10_000;
    /** Three refreshes: a list outlives a slow round, not a Tomcat that stopped or changed its list. */
    static final int EXPIRY_SECONDS = 30;
    /** What another list is shown with: node ids are short, and the bytes come from memcached. */
    private static final int SHOWN_CHARS = 200;

    private final String key;
    private final byte[] mine;
    private final String list;
    private final List<MemcachedNode> nodes;
    private final SessionStore store;
    private final NodeHealth health;
    private final String webapp;
    private final OncePerMinute lines;
    private final Statistics statistics;

    NodeListCheck(SessionNames names, List<MemcachedNode> nodes, SessionStore store, NodeHealth health, String webapp,
            OncePerMinute lines, Statistics statistics) {
        // The webapp's name too, as RouteClaims: a prefix that does not tell webapps apart must not make
        // two webapps with their own lists look like one that disagrees.
        this.key = names.ofWebapp("msm:nodes:" + StorageKeyPrefix.hash(webapp));
        List<String> ids = new ArrayList<>();
        for (MemcachedNode node : nodes) {
            ids.add(node.id());
        }
        this.list = String.join(",", ids);
        this.mine = list.getBytes(StandardCharsets.UTF_8);
        this.nodes = nodes;
        this.store = store;
        this.health = health;
        this.webapp = webapp;
        this.lines = lines;
        this.statistics = statistics;
    }

    @Override
    public void run() {
        UpNodes.each(nodes, health, this::check, "every Tomcat lists the same memcachedNodes", webapp, lines, LOG);
    }

    private void check(MemcachedNode node) throws StoreException {
        byte[] found = store.get(node.id(), key);
        if (found != null && !Arrays.equals(found, mine)) {
            differs(node, found);
        }
        store.set(node.id(), key, mine, EXPIRY_SECONDS);
    }

    private void differs(MemcachedNode node, byte[] found) {
        statistics.increment(Statistics.Counter.NODE_LISTS_DIFFERENT);
        if (lines.allow("differs")) {
            LOG.error("msm for {}: another Tomcat of this webapp lists the memcached nodes as [{}] (found on node {}),"
                    + " this one as [{}]: non-sticky mode keeps each session's backup copy on the node after its own in"
                    + " the list, so Tomcats that disagree miss each other's copies and a failover loses sessions; write"
                    + " the same ids in the same order in memcachedNodes on every Tomcat (during a rolling change of"
                    + " the list, this is expected until every Tomcat restarted); this line repeats at most once a"
                    + " minute", webapp, shown(found), node.id(), list);
        }
    }

    /** The bytes as text a log line can hold: node ids' characters only, and not too many. */
    private static String shown(byte[] found) {
        String text = new String(found, StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < text.length() && sb.length() < SHOWN_CHARS; i++) {
            char c = text.charAt(i);
            sb.append(Character.isLetterOrDigit(c) && c < 128 || c == ',' || c == '-' || c == '_' || c == '.' ? c : '?');
        }
        return sb.toString();
    }
}

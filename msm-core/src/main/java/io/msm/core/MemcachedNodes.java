package io.msm.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses {@code memcachedNodes} and {@code failoverNodes}. Each malformed entry adds one error
 * naming the attribute, the entry and the form expected, so the operator sees all of them at once.
 */
final class MemcachedNodes {
    static final String FORM = "id:host:port, e.g. n1:mc1.example.org:11211 (an IPv6 address in brackets: n1:[fd00::5]:11211)";
    private static final Pattern SEPARATORS = Pattern.compile("[,\\s]+");
    // '-' and '.' separate node id and jvmRoute inside the session id, so ids may not use them.
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_]+");

    private MemcachedNodes() {
    }

    static List<MemcachedNode> parse(String nodes, String failoverNodes, List<String> errors) {
        if (nodes == null || nodes.trim().isEmpty()) {
            errors.add("memcachedNodes: no node given; write a comma-separated list of " + FORM);
            return Collections.emptyList();
        }
        List<String> entries = new ArrayList<>();
        for (String entry : SEPARATORS.split(nodes.trim())) {
            if (!entry.isEmpty()) { // a stray leading or doubled comma is not an entry
                entries.add(entry);
            }
        }
        Map<String, String[]> parsed = new LinkedHashMap<>();
        for (String entry : entries) {
            String[] parts = split(entry);
            String[] idHostPort;
            if (parts == null) {
                errors.add("memcachedNodes: entry '" + entry + "' must be " + FORM);
                continue;
            } else if (parts.length == 3) {
                idHostPort = parts;
            } else if (parts.length == 2 && entries.size() == 1) {
                idHostPort = new String[] {"n1", parts[0], parts[1]};
            } else {
                errors.add("memcachedNodes: entry '" + entry + "' must be " + FORM
                        + (entries.size() == 1 ? " (or host:port for a single node)" : ""));
                continue;
            }
            if (validEntry(entry, idHostPort, errors)) {
                if (parsed.containsKey(idHostPort[0])) {
                    errors.add("memcachedNodes: node id '" + idHostPort[0] + "' is used twice; give each node its own id");
                } else {
                    parsed.put(idHostPort[0], idHostPort);
                }
            }
        }
        Set<String> failover = parseFailover(failoverNodes, parsed.keySet(), errors);
        if (!parsed.isEmpty() && failover.containsAll(parsed.keySet())) {
            errors.add("failoverNodes: every node of memcachedNodes is a failover node; leave at least one regular node");
        }
        List<MemcachedNode> result = new ArrayList<>();
        String[] first = entries.isEmpty() ? null : split(entries.get(0));
        boolean named = !(entries.size() == 1 && first != null && first.length == 2);
        for (String[] p : parsed.values()) {
            result.add(new MemcachedNode(p[0], p[1], Integer.parseInt(p[2]), failover.contains(p[0]), named));
        }
        return Collections.unmodifiableList(result);
    }

    /**
     * @return the parts of {@code id:host:port} or {@code host:port}, the host of an IPv6 address
     *     without its brackets ({@code n1:[::1]:11211}, as in a URL); null for brackets out of place
     */
    private static String[] split(String entry) {
        int open = entry.indexOf('[');
        if (open < 0) {
            return entry.split(":", -1);
        }
        int close = entry.indexOf(']');
        String before = entry.substring(0, open);
        if (close < open || entry.indexOf('[', open + 1) >= 0 || entry.indexOf(']', close + 1) >= 0
                || !entry.startsWith(":", close + 1) || !before.isEmpty() && before.indexOf(':') != before.length() - 1) {
            return null;
        }
        String host = entry.substring(open + 1, close);
        String port = entry.substring(close + 2);
        return before.isEmpty() ? new String[] {host, port}
                : new String[] {before.substring(0, before.length() - 1), host, port};
    }

    /**
     * @return the id of the one node when memcachedNodes is a single {@code host:port}, else null: an
     *     id without a node then names it, as memcached-session-manager 2.3.2 gave them
     */
    static String implicitNode(List<MemcachedNode> nodes) {
        return nodes.size() == 1 && !nodes.get(0).isNamed() ? nodes.get(0).id() : null;
    }

    private static boolean validEntry(String entry, String[] idHostPort, List<String> errors) {
        boolean valid = true;
        if (!NODE_ID.matcher(idHostPort[0]).matches()) {
            errors.add("memcachedNodes: node id '" + idHostPort[0] + "' in entry '" + entry
                    + "' may use only letters, digits and '_' (form " + FORM + ")");
            valid = false;
        }
        if (idHostPort[1].isEmpty()) {
            errors.add("memcachedNodes: entry '" + entry + "' has no host; it must be " + FORM);
            valid = false;
        }
        if (!isPort(idHostPort[2])) {
            errors.add("memcachedNodes: port '" + idHostPort[2] + "' in entry '" + entry
                    + "' must be a number from 1 to 65535 (form " + FORM + ")");
            valid = false;
        }
        return valid;
    }

    private static boolean isPort(String text) {
        if (text.isEmpty() || text.length() > 5) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (!Character.isDigit(text.charAt(i))) {
                return false;
            }
        }
        int port = Integer.parseInt(text);
        return port >= 1 && port <= 65535;
    }

    private static Set<String> parseFailover(String failoverNodes, Set<String> known, List<String> errors) {
        Set<String> failover = new LinkedHashSet<>();
        if (failoverNodes == null || failoverNodes.trim().isEmpty()) {
            return failover;
        }
        for (String id : SEPARATORS.split(failoverNodes.trim())) {
            if (id.isEmpty()) {
                continue; // a stray leading or doubled comma, as in memcachedNodes
            }
            if (known.contains(id)) {
                failover.add(id);
            } else {
                errors.add("failoverNodes: '" + id + "' is not a node id of memcachedNodes (known ids: "
                        + String.join(", ", known) + ")");
            }
        }
        return failover;
    }
}

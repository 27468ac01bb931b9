package io.msm.serializers;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;

/**
 * Which problems were logged already, so that each is logged once. Bounded: the keys can come from
 * bytes in memcached (attribute and class names), and a planted session with thousands of distinct
 * names must neither grow the heap for good nor write thousands of lines. Past the bound one line
 * says so and later new problems go unlogged.
 */
final class ReportedOnce {
    static final int MAX_KEYS = 1000;
    private static final int MAX_KEY_LENGTH = 300;
    private static final int MAX_PRINTED = 100;

    private final Set<String> keys = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean full = new AtomicBoolean();
    private final Logger log;

    ReportedOnce(Logger log) {
        this.log = log;
    }

    /** @return true when this problem is to be logged now: first seen, and the bound not reached */
    boolean first(String key) {
        if (full.get()) {
            return false;
        }
        if (keys.size() >= MAX_KEYS) {
            if (full.compareAndSet(false, true)) {
                log.warn("{} different problems with session attributes logged; further ones are not logged until"
                        + " this webapp restarts", MAX_KEYS);
            }
            return false;
        }
        return keys.add(key.length() > MAX_KEY_LENGTH ? key.substring(0, MAX_KEY_LENGTH) : key);
    }

    /** A name read from memcached, fit for one log line: control characters escaped, at most 100 characters. */
    static String printable(String name) {
        return printable(name, MAX_PRINTED);
    }

    /** @param max the characters kept, before "..." */
    static String printable(String name, int max) {
        if (name == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder();
        int i = 0;
        for (; i < name.length() && sb.length() < max; i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return i < name.length() ? sb.append("...").toString() : sb.toString();
    }
}

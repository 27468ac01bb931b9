package io.msm.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The non-sticky sessions this Tomcat served, and when each would expire if nobody used it again. */
final class ExpiryWatch {
    private final ConcurrentHashMap<String, Long> expiresAt = new ConcurrentHashMap<>();

    void note(String id, long when) {
        expiresAt.put(id, when);
    }

    void forget(String id) {
        expiresAt.remove(id);
    }

    List<String> due(long now) {
        List<String> due = new ArrayList<>();
        for (Map.Entry<String, Long> e : expiresAt.entrySet()) {
            if (e.getValue() < now) {
                due.add(e.getKey());
            }
        }
        return due;
    }

    int size() {
        return expiresAt.size();
    }

}

package io.msm.benchmarks;

import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

import io.msm.core.SessionId;

/**
 * The session cookies of the simulated users. Like a browser, a user keeps the new cookie when the
 * server renames the session (it moved to another memcached node or Tomcat); a new session under a
 * different random part is a lost one and is not taken.
 */
final class CookieJar {
    private final AtomicReferenceArray<String> ids;

    CookieJar(List<String> ids) {
        this.ids = new AtomicReferenceArray<>(ids.toArray(new String[0]));
    }

    int size() {
        return ids.length();
    }

    String get(int user) {
        return ids.get(user);
    }

    /** @return true when {@code answered} is {@code sent} renamed, now kept as the user's cookie */
    boolean followRename(int user, String sent, String answered) {
        if (!sameSession(sent, answered)) {
            return false;
        }
        ids.compareAndSet(user, sent, answered);
        return true;
    }

    /** @return true when both ids name one session: the same random part, whatever node or route */
    static boolean sameSession(String a, String b) {
        SessionId x = SessionId.parse(a);
        SessionId y = SessionId.parse(b);
        return x != null && y != null && x.random().equals(y.random());
    }
}

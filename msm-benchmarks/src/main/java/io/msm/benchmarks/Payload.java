package io.msm.benchmarks;

import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The realistic session of the benchmarks: eight attributes, about 3 KB with Java serialization
 * (a user name, a profile bean, a list of 20 strings, a map of 10 entries, a date, a long, a
 * {@code ConcurrentHashMap} of 10 entries, and the counter the write workload increments).
 */
public final class Payload {
    public static final String COUNTER = "counter";
    /** The attributes the read workload reads. */
    public static final List<String> NAMES = List.of("user", "profile", "recentPages", "preferences", "loginTime",
            "userId", "projectAccess", COUNTER);

    private Payload() {
    }

    /** @param n makes each session's values its own, as different users' sessions are */
    public static Map<String, Object> create(int n) {
        long now = 1_700_000_000_000L + n * 1000L;
        Map<String, Object> attributes = new LinkedHashMap<>();
        String user = String.format("user%05d", n);
        attributes.put("user", user);
        attributes.put("profile", new Profile(10_000 + n, "Firstname Lastname " + n, user + "@example.org",
                "Department of Radiology, Example University Hospital", "en_US",
                List.of("ROLE_USER", "ROLE_PROJECT_MEMBER", "ROLE_UPLOADER"), new Date(now - 86_400_000L)));
        List<String> recent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            recent.add("/data/projects/PRJ" + (n % 50) + "/subjects/SUBJ" + (n * 20 + i) + "/experiments");
        }
        attributes.put("recentPages", recent);
        Map<String, String> preferences = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            preferences.put("preference.key." + i, "value-" + i + "-of-user-" + n);
        }
        attributes.put("preferences", preferences);
        attributes.put("loginTime", new Date(now));
        attributes.put("userId", 10_000L + n);
        ConcurrentHashMap<String, Integer> access = new ConcurrentHashMap<>();
        for (int i = 0; i < 10; i++) {
            access.put("PRJ" + (n + i) % 50, i % 3);
        }
        attributes.put("projectAccess", access);
        attributes.put(COUNTER, 0);
        return attributes;
    }
}

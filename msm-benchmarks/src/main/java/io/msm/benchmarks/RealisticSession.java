package io.msm.benchmarks;

import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.core.userdetails.User;

import io.msm.core.SessionContent;

/**
 * The session of the numbers: eight attributes, about 3 KB with Java serialization: a
 * user name, a profile bean, a list of 20 strings, a map of 10 entries, a date, a long, a
 * ConcurrentHashMap of 10 entries and a Spring Security context.
 */
public final class RealisticSession {
    private RealisticSession() {
    }

    public static SessionContent create() {
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("username", "alice.researcher");
        attrs.put("profile", profile());
        List<String> searches = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            searches.add("MR_session_" + (100 + i));
        }
        attrs.put("recentSearches", searches);
        Map<String, String> filters = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            filters.put("filter." + i, "value-" + i * 31);
        }
        attrs.put("searchFilters", filters);
        attrs.put("loginTime", new Date(1_763_000_000_000L));
        attrs.put("requestCount", 1234L);
        ConcurrentHashMap<String, Integer> access = new ConcurrentHashMap<>();
        for (int i = 0; i < 10; i++) {
            access.put("PROJECT_" + i, i * 7);
        }
        attrs.put("projectAccess", access);
        attrs.put("SPRING_SECURITY_CONTEXT", securityContext());
        return new SessionContent(attrs, null);
    }

    private static UserProfile profile() {
        UserProfile p = new UserProfile();
        p.id = 4711;
        p.login = "alice.researcher";
        p.firstName = "Alice";
        p.lastName = "Researcher";
        p.email = "alice.researcher@example.org";
        p.institution = "Example University Imaging Center";
        p.roles = new ArrayList<>(List.of("SiteUser", "DataManager", "Uploader"));
        p.preferences = new HashMap<>(Map.of("theme", "dark", "pageSize", "50", "timezone", "Europe/Berlin"));
        p.lastLogin = new Date(1_762_900_000_000L);
        p.enabled = true;
        p.storageQuotaMb = 20_480;
        return p;
    }

    private static SecurityContextImpl securityContext() {
        User user = new User("alice.researcher", "", true, true, true, true,
                List.of(new SimpleGrantedAuthority("ROLE_USER"), new SimpleGrantedAuthority("ROLE_DATA_MANAGER")));
        return new SecurityContextImpl(UsernamePasswordAuthenticationToken.authenticated(user, null,
                user.getAuthorities()));
    }
}

package io.msm.core;

import java.security.Principal;
import java.util.Collections;
import java.util.Map;

/**
 * What a transcoder turns into bytes and back: the attributes, the logged-in principal, and the
 * attributes this Tomcat could not read, carried as their bytes ({@link UnreadAttribute}).
 */
public final class SessionContent {
    private final Map<String, Object> attributes;
    private final Principal principal;
    private final Map<String, UnreadAttribute> unread;

    public SessionContent(Map<String, Object> attributes, Principal principal) {
        this(attributes, principal, Collections.<String, UnreadAttribute>emptyMap());
    }

    /**
     * @param unread attributes read as bytes only; one whose name is also in {@code attributes} is
     *     replaced by that value
     */
    public SessionContent(Map<String, Object> attributes, Principal principal, Map<String, UnreadAttribute> unread) {
        this.attributes = Collections.unmodifiableMap(attributes);
        this.principal = principal;
        this.unread = unread.isEmpty() ? Collections.<String, UnreadAttribute>emptyMap()
                : Collections.unmodifiableMap(unread);
    }

    public Map<String, Object> attributes() {
        return attributes;
    }

    /** @return null when nobody is logged in */
    public Principal principal() {
        return principal;
    }

    /** @return the attributes this Tomcat could not read, by name; empty for most sessions */
    public Map<String, UnreadAttribute> unread() {
        return unread;
    }
}

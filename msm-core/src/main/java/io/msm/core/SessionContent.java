package io.msm.core;

import java.security.Principal;
import java.util.Collections;
import java.util.Map;

/** What a transcoder turns into bytes and back: the attributes and the logged-in principal. */
public final class SessionContent {
    private final Map<String, Object> attributes;
    private final Principal principal;

    public SessionContent(Map<String, Object> attributes, Principal principal) {
        this.attributes = Collections.unmodifiableMap(attributes);
        this.principal = principal;
    }

    public Map<String, Object> attributes() {
        return attributes;
    }

    /** @return null when nobody is logged in */
    public Principal principal() {
        return principal;
    }
}

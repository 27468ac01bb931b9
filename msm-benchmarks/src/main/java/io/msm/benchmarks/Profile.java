package io.msm.benchmarks;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

/** A user profile bean as webapps keep one in the session: a few strings, a list, a date. */
public final class Profile implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long id;
    private final String fullName;
    private final String email;
    private final String institution;
    private final String locale;
    private final List<String> roles;
    private final Date registered;

    public Profile(long id, String fullName, String email, String institution, String locale, List<String> roles,
            Date registered) {
        this.id = id;
        this.fullName = fullName;
        this.email = email;
        this.institution = institution;
        this.locale = locale;
        this.roles = new ArrayList<>(roles);
        this.registered = registered;
    }

    public long id() {
        return id;
    }

    public String fullName() {
        return fullName;
    }

    public String email() {
        return email;
    }

    public String institution() {
        return institution;
    }

    public String locale() {
        return locale;
    }

    public List<String> roles() {
        return roles;
    }

    public Date registered() {
        return registered;
    }
}

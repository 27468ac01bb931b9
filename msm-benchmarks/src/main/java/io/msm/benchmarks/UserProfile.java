package io.msm.benchmarks;

import java.io.Serializable;
import java.util.Date;
import java.util.List;
import java.util.Map;

/** A webapp's profile bean, as XNAT-like webapps keep one per logged-in user. */
public class UserProfile implements Serializable {
    private static final long serialVersionUID = 1L;

    long id;
    String login;
    String firstName;
    String lastName;
    String email;
    String institution;
    List<String> roles;
    Map<String, String> preferences;
    Date lastLogin;
    boolean enabled;
    int storageQuotaMb;

    public UserProfile() {
    }
}

package io.msm.tomcat;

import java.io.Serializable;
import java.security.Principal;
import java.util.Arrays;
import java.util.List;

import org.apache.catalina.realm.GenericPrincipal;
import org.apache.juli.logging.Log;

/**
 * Tomcat 7's GenericPrincipal is not serializable (later lines replace it on serialization); this
 * is what msm stores in its place: the name, the roles and the realm's own user principal (a JAAS
 * realm's, which {@code getUserPrincipal()} answers and a webapp may cast to) when it serializes and
 * is the webapp's or a library's class, enough to rebuild it on another Tomcat.
 */
final class StoredPrincipal implements Principal, Serializable {
    private static final long serialVersionUID = 1L;

    private static final Log LOG = TomcatLogs.get(StoredPrincipal.class);
    private static final java.util.Set<String> SUBCLASSES_WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final String name;
    private final String[] roles;
    /** Null when the realm gave none or it does not serialize; a field added later reads as null. */
    private final Principal user;

    private StoredPrincipal(String name, String[] roles, Principal user) {
        this.name = name;
        this.roles = roles;
        this.user = user;
    }

    static Principal of(Principal principal) {
        if (principal instanceof GenericPrincipal) {
            GenericPrincipal p = (GenericPrincipal) principal;
            if (p.getClass() != GenericPrincipal.class && SUBCLASSES_WARNED.add(p.getClass().getName())) {
                // Serializable or not, a subclass cannot be read back (Tomcat 7's GenericPrincipal has no
                // constructor serialization could call), and its user would be logged out: stored as Tomcat's.
                LOG.warn("the logged-in principal of class " + p.getClass().getName() + " (a realm's own"
                        + " GenericPrincipal) is stored as Tomcat's GenericPrincipal, with its name, roles and user"
                        + " principal: on another Tomcat a webapp that casts it to its own class finds Tomcat's, and"
                        + " its overrides (a hasRole of its own) no longer decide: the roles it lists do; Tomcat 7's"
                        + " GenericPrincipal cannot be serialized as it is");
            }
            Principal user = p.getUserPrincipal(); // the principal itself when the realm gave none
            return new StoredPrincipal(p.getName(), p.getRoles(), user != p && user instanceof Serializable
                    && !JdkClasses.isJdkClass(user.getClass()) ? user : null);
        }
        return principal;
    }

    GenericPrincipal toGenericPrincipal() {
        List<String> list = Arrays.asList(roles);
        return new GenericPrincipal(name, null, list, user);
    }

    @Override
    public String getName() {
        return name;
    }
}

package io.msm.tomcat;

import java.io.Serializable;
import java.security.Principal;
import java.util.Arrays;
import java.util.List;

import org.apache.catalina.realm.GenericPrincipal;

/**
 * Tomcat 7's GenericPrincipal is not serializable (later lines replace it on serialization); this
 * is what msm stores in its place: the name and the roles, enough to rebuild it on another Tomcat.
 */
final class StoredPrincipal implements Principal, Serializable {
    private static final long serialVersionUID = 1L;

    private final String name;
    private final String[] roles;

    private StoredPrincipal(String name, String[] roles) {
        this.name = name;
        this.roles = roles;
    }

    static Principal of(Principal principal) {
        if (principal instanceof GenericPrincipal && !(principal instanceof Serializable)) {
            GenericPrincipal p = (GenericPrincipal) principal;
            return new StoredPrincipal(p.getName(), p.getRoles());
        }
        return principal;
    }

    GenericPrincipal toGenericPrincipal() {
        List<String> list = Arrays.asList(roles);
        return new GenericPrincipal(name, null, list);
    }

    @Override
    public String getName() {
        return name;
    }
}

package io.msm.tomcat;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.security.Principal;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.catalina.realm.GenericPrincipal;
import org.apache.juli.logging.Log;

/**
 * Tomcat 8.5 and 9 serialize a {@link GenericPrincipal} with the password its realm gave it (with
 * {@code MemoryRealm}, the clear text of {@code tomcat-users.xml}), which would then sit in memcached
 * beside the session. Nothing needs it once the user is logged in, and Tomcat 10.1 dropped the field:
 * the principal msm stores is a copy without it. Reflective, because this source is compiled against
 * 9 and, through the jakarta build, 10.1 (no password), and 8.5 lacks the attributes 9 carries.
 */
final class PrincipalWithoutPassword {
    private static final Log LOG = TomcatLogs.get(PrincipalWithoutPassword.class);
    private static final Method PASSWORD = method("getPassword");
    private static final Method ATTRIBUTE_NAMES = method("getAttributeNames");
    private static final Method ATTRIBUTE = method("getAttribute", String.class);
    private static final Constructor<?> WITH_ATTRIBUTES = constructor(String.class, String.class, List.class,
            Principal.class, javax.security.auth.login.LoginContext.class, org.ietf.jgss.GSSCredential.class, Map.class);
    /** Tomcat 10.1 and 11, through the jakarta build: no password. */
    private static final Constructor<?> WITHOUT_PASSWORD = constructor(String.class, List.class, Principal.class,
            javax.security.auth.login.LoginContext.class, org.ietf.jgss.GSSCredential.class, Map.class);
    private static final Constructor<?> WITHOUT_ATTRIBUTES = constructor(String.class, String.class, List.class,
            Principal.class);
    private static volatile boolean warned;
    private static final java.util.Set<String> SUBCLASSES_WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private PrincipalWithoutPassword() {
    }

    /**
     * @return the principal to store: a copy without the password where it carries one, and without a
     *     user principal of the JDK's own (a JAAS realm's Kerberos, LDAP or X.500 principal, which the
     *     built-in serialFilter refuses: kept, it would leave the whole login out, and the user logged out
     *     on another Tomcat); else itself
     */
    static Principal of(Principal principal) {
        if (!(principal instanceof GenericPrincipal)) {
            return principal;
        }
        GenericPrincipal p = (GenericPrincipal) principal;
        try {
            // getUserPrincipal() answers the principal itself when the realm gave none.
            Principal user = p.getUserPrincipal() == p ? null : p.getUserPrincipal();
            boolean jdkUser = user != null && JdkClasses.isJdkClass(user.getClass());
            if ((PASSWORD == null || PASSWORD.invoke(p) == null) && !jdkUser) {
                return principal;
            }
            if (p.getClass() != GenericPrincipal.class && jdkUser) {
                // Kept, it would leave the whole login out (serialFilter refuses its user principal): stored as
                // Tomcat's, which keeps the login but not the realm's type and overrides.
                if (SUBCLASSES_WARNED.add(p.getClass().getName())) {
                    LOG.warn("the logged-in principal of class " + p.getClass().getName() + " (a realm's own"
                            + " GenericPrincipal) holds a user principal of the JDK's (" + user.getClass().getName()
                            + "), which is not stored: it is stored as Tomcat's GenericPrincipal, with its name, roles"
                            + " and attributes; on another Tomcat its own type and overrides (hasRole) are not there");
                }
            } else if (p.getClass() != GenericPrincipal.class) {
                // A realm's own subclass: a copy would lose its type and overrides (hasRole, say), and the
                // webapp may cast to it. Stored as it serializes; said once, since that may hold the password.
                if (SUBCLASSES_WARNED.add(p.getClass().getName())) {
                    LOG.warn("the logged-in principal of class " + p.getClass().getName() + " (a realm's own"
                            + " GenericPrincipal) is stored as it serializes, which may include the password its"
                            + " realm gave it; set encryptionKeys, or have the realm leave the password out");
                }
                return principal;
            }
            return copy(p, Arrays.asList(p.getRoles()), jdkUser ? null : user);
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!warned) {
                warned = true;
                LOG.warn("the logged-in principal could not be copied without its password (" + e + "); it is stored"
                        + " as Tomcat serializes it, password included: set encryptionKeys, or report this with the"
                        + " Tomcat version");
            }
            return principal;
        }
    }

    /** The login context and credential are not serialized either. */
    private static Principal copy(GenericPrincipal p, List<String> roles, Principal user)
            throws ReflectiveOperationException {
        Map<String, Object> attributes = new HashMap<>();
        if (ATTRIBUTE_NAMES != null && ATTRIBUTE != null) {
            for (Enumeration<?> names = (Enumeration<?>) ATTRIBUTE_NAMES.invoke(p); names.hasMoreElements();) {
                String name = (String) names.nextElement();
                attributes.put(name, ATTRIBUTE.invoke(p, name));
            }
        }
        if (WITH_ATTRIBUTES != null) {
            return (Principal) WITH_ATTRIBUTES.newInstance(p.getName(), null, roles, user, null, null, attributes);
        }
        if (WITHOUT_PASSWORD != null) {
            return (Principal) WITHOUT_PASSWORD.newInstance(p.getName(), roles, user, null, null, attributes);
        }
        return (Principal) WITHOUT_ATTRIBUTES.newInstance(p.getName(), null, roles, user); // Tomcat 8.5
    }

    private static Method method(String name, Class<?>... parameters) {
        try {
            return GenericPrincipal.class.getMethod(name, parameters);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static Constructor<?> constructor(Class<?>... parameters) {
        try {
            return GenericPrincipal.class.getConstructor(parameters);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }
}

package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.List;
import java.util.Map;

import org.apache.catalina.realm.GenericPrincipal;
import org.junit.jupiter.api.Test;

/** What Tomcat 9's principal becomes before it is stored: everything but the realm's password. */
class PrincipalWithoutPasswordTest {
    @Test
    void aGenericPrincipalIsStoredWithoutItsPassword_andWithEverythingElse() throws Exception {
        Principal user = new User("alice@example.org");
        GenericPrincipal logged = new GenericPrincipal("alice", "s3cret-pw", List.of("user", "admin"), user, null, null,
                Map.of("department", "radiology"));
        assertTrue(serialized(logged).contains("s3cret-pw"), "what Tomcat 9 itself would store");

        GenericPrincipal stored = (GenericPrincipal) PrincipalWithoutPassword.of(logged);

        assertEquals("alice", stored.getName());
        assertNull(stored.getPassword());
        assertArrayEquals(new String[] {"admin", "user"}, stored.getRoles());
        assertSame(user, stored.getUserPrincipal());
        assertEquals("radiology", stored.getAttribute("department"));
        assertTrue(!serialized(stored).contains("s3cret-pw"));
    }

    /**
     * A JAAS realm's Kerberos principal is of the JDK, which the built-in serialFilter refuses: kept, it
     * would leave the whole login out of memcached. The login is stored without it.
     */
    @Test
    void aUserPrincipalOfTheJdkIsLeftOut_theLoginIsStored() throws Exception {
        Principal kerberos = new javax.security.auth.kerberos.KerberosPrincipal("alice@EXAMPLE.ORG");
        GenericPrincipal logged = new GenericPrincipal("alice", null, List.of("user"), kerberos, null, null,
                Map.of("department", "radiology"));

        GenericPrincipal stored = (GenericPrincipal) PrincipalWithoutPassword.of(logged);

        assertEquals("alice", stored.getName());
        assertArrayEquals(new String[] {"user"}, stored.getRoles());
        assertSame(stored, stored.getUserPrincipal(), "no user principal of its own");
        assertEquals("radiology", stored.getAttribute("department"));
        assertTrue(!serialized(stored).contains("KerberosPrincipal"));
        Principal user = new User("alice@example.org");
        GenericPrincipal withOwnUser = new GenericPrincipal("alice", null, List.of("user"), user);
        assertSame(withOwnUser, PrincipalWithoutPassword.of(withOwnUser), "a webapp's user principal stays");
    }

    /** A realm's own subclass with a JDK user principal: kept, the whole login would be refused. */
    @Test
    void aRealmsOwnSubclassWithAUserPrincipalOfTheJdkIsStoredAsTomcatsWithItsLogin() {
        GenericPrincipal own = new OwnPrincipal("bob", null, List.of("user"),
                new javax.security.auth.kerberos.KerberosPrincipal("bob@EXAMPLE.ORG"));

        GenericPrincipal stored = (GenericPrincipal) PrincipalWithoutPassword.of(own);

        assertSame(GenericPrincipal.class, stored.getClass());
        assertEquals("bob", stored.getName());
        assertArrayEquals(new String[] {"user"}, stored.getRoles());
        assertSame(stored, stored.getUserPrincipal());
    }

    @Test
    void aRealmsOwnSubclassKeepsItsType() {
        GenericPrincipal own = new OwnPrincipal("bob", "pw", List.of("user"));
        assertSame(own, PrincipalWithoutPassword.of(own), "a copy would lose its type and overrides");
    }

    private static String serialized(Object o) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        return new String(bytes.toByteArray(), StandardCharsets.ISO_8859_1);
    }

    static final class User implements Principal, Serializable {
        private static final long serialVersionUID = 1L;
        private final String name;

        User(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }
    }

    static final class OwnPrincipal extends GenericPrincipal {
        private static final long serialVersionUID = 1L;

        OwnPrincipal(String name, String password, List<String> roles) {
            super(name, password, roles);
        }

        OwnPrincipal(String name, String password, List<String> roles, Principal user) {
            super(name, password, roles, user);
        }

        @Override
        public boolean hasRole(String role) {
            return true;
        }
    }
}

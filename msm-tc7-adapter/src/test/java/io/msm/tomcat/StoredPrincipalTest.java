package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.security.Principal;
import java.util.List;

import org.apache.catalina.realm.GenericPrincipal;
import org.junit.jupiter.api.Test;

/** Tomcat 7's logged-in principal, as msm stores it and reads it back on another Tomcat. */
class StoredPrincipalTest {
    @Test
    void aGenericPrincipalComesBackWithItsNameRolesAndUserPrincipal() throws Exception {
        Principal user = new User("alice@example.org");
        GenericPrincipal logged = new GenericPrincipal("alice", "s3cret-pw", List.of("user", "admin"), user);

        GenericPrincipal back = roundTrip(logged);

        assertEquals("alice", back.getName());
        assertArrayEquals(new String[] {"admin", "user"}, back.getRoles());
        assertEquals("alice@example.org", back.getUserPrincipal().getName());
        assertEquals(null, back.getPassword(), "the password is not stored");
    }

    /**
     * A realm's own subclass that says it serializes cannot be read back (its superclass has no
     * constructor for serialization): it was stored as it was, and its user logged out on another Tomcat.
     */
    @Test
    void aRealmsOwnSerializableSubclassIsStoredAsTomcatsAndComesBack() throws Exception {
        GenericPrincipal own = new OwnPrincipal("bob", List.of("user"));

        GenericPrincipal back = roundTrip(own);

        assertEquals("bob", back.getName());
        assertTrue(back.hasRole("user"));
    }

    /** A JAAS realm's Kerberos principal is of the JDK, which the built-in serialFilter refuses: left out. */
    @Test
    void aUserPrincipalOfTheJdkIsLeftOut() throws Exception {
        GenericPrincipal logged = new GenericPrincipal("alice", null, List.of("user"),
                new javax.security.auth.kerberos.KerberosPrincipal("alice@EXAMPLE.ORG"));

        GenericPrincipal back = roundTrip(logged);

        assertEquals("alice", back.getName());
        assertSame(back, back.getUserPrincipal(), "no user principal of its own");
    }

    private static GenericPrincipal roundTrip(GenericPrincipal logged) throws Exception {
        Principal stored = StoredPrincipal.of(logged);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(stored);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return ((StoredPrincipal) in.readObject()).toGenericPrincipal();
        }
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

    static final class OwnPrincipal extends GenericPrincipal implements Serializable {
        private static final long serialVersionUID = 1L;

        OwnPrincipal(String name, List<String> roles) {
            super(name, null, roles);
        }
    }
}

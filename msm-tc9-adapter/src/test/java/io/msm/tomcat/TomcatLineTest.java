package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wrong msm jar for a Tomcat line, or two msm jars in lib/, stop the webapp with a message that
 * names the jar to install, instead of a NoClassDefFoundError or NoSuchMethodError. This module's
 * jar is the javax.servlet one (Tomcat 7 to 9).
 */
class TomcatLineTest {

    @Test
    void theTomcat9JarOnTomcat9Or85Fits() {
        assertNull(TomcatLine.mismatch("Apache Tomcat/9.0.113", true, true, false));
        assertNull(TomcatLine.mismatch("Apache Tomcat/7.0.109", true, false, true), "the Tomcat 7 jar on Tomcat 7");
        assertNull(TomcatLine.mismatch("Apache Tomcat/9.0.113", true, true, null), "the static check: javax on Tomcat 9");
        // Hardened installations change the version Tomcat reports: the line is told by its APIs.
        assertNull(TomcatLine.mismatch("Apache Tomcat/0.0.0", true, true, false));
    }

    @Test
    void aJavaxJarOnTomcat10NamesTheJakartaJar() {
        String problem = TomcatLine.mismatch("Apache Tomcat/10.1.49", false, true, null);
        assertNotNull(problem);
        assertTrue(problem.contains("Apache Tomcat/10.1.49") && problem.contains("put msm-tc10-adapter-<version>-all.jar"),
                problem);
    }

    @Test
    void theTomcat7AndTomcat9JarsOnEachOthersLineNameTheRightOne() {
        String tc7OnTomcat9 = TomcatLine.mismatch("Apache Tomcat/9.0.113", true, true, true);
        assertTrue(tc7OnTomcat9.contains("msm-tc7-adapter (Tomcat 7)") && tc7OnTomcat9.contains("put msm-tc9-adapter"),
                tc7OnTomcat9);
        String tc9OnTomcat7 = TomcatLine.mismatch("Apache Tomcat/7.0.109", true, false, false);
        assertTrue(tc9OnTomcat7.contains("msm-tc9-adapter (Tomcat 8.5 and 9)") && tc9OnTomcat7.contains("put msm-tc7-adapter"),
                tc9OnTomcat7);
    }

    /** This module's tests run on Tomcat 9 with one msm on the class path: the check lets every start go on. */
    @Test
    void thisTomcatWithThisJarPasses() {
        assertNull(TomcatLine.check(TomcatLine.class.getClassLoader(), false));
        assertEquals(1, TomcatLine.copies(TomcatLine.class.getClassLoader()).size());
    }

    @Test
    void twoMsmJarsInLibAreNamedBoth(@TempDir Path dir) throws IOException {
        Path old = jarWithManager(dir.resolve("msm-tc9-adapter-0.1.0-all.jar"));
        Path current = jarWithManager(dir.resolve("msm-tc9-adapter-0.2.0-all.jar"));
        try (URLClassLoader lib = new URLClassLoader(new URL[] {old.toUri().toURL(), current.toUri().toURL()}, null)) {
            List<URL> copies = TomcatLine.copies(lib);
            assertEquals(2, copies.size());
            String problem = TomcatLine.duplicates(copies);
            assertTrue(problem.contains("msm-tc9-adapter-0.1.0-all.jar") && problem.contains("msm-tc9-adapter-0.2.0-all.jar")
                    && problem.contains("keep the one jar"), problem);
            assertTrue(TomcatLine.sameBytes(copies), "the same jar twice: only a WARN");
        }
        // Two versions whose manager class compiled to the same bytes: the jars differ elsewhere.
        Path other = jarWithManager(dir.resolve("msm-tc9-adapter-0.3.0-all.jar"), (byte) 0xFE, "io/msm/core/New.class");
        try (URLClassLoader lib = new URLClassLoader(new URL[] {old.toUri().toURL(), other.toUri().toURL()}, null)) {
            assertFalse(TomcatLine.sameBytes(TomcatLine.copies(lib)), "two versions: the start stops");
        }
        try (URLClassLoader lib = new URLClassLoader(new URL[] {current.toUri().toURL()}, null)) {
            assertNull(TomcatLine.duplicates(TomcatLine.copies(lib)), "one jar is fine");
        }
    }

    private static Path jarWithManager(Path jar) throws IOException {
        return jarWithManager(jar, (byte) 0xFE);
    }

    private static Path jarWithManager(Path jar, byte last, String... others) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            out.putNextEntry(new ZipEntry("io/msm/tomcat/MemcachedSessionManager.class"));
            out.write(new byte[] {(byte) 0xCA, last});
            out.closeEntry();
            for (String other : others) {
                out.putNextEntry(new ZipEntry(other));
                out.write(new byte[] {1});
                out.closeEntry();
            }
        }
        return jar;
    }
}

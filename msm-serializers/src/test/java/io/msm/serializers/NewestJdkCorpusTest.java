package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The corpus on the newest JDK our machines have (25), in a JVM forked over the test classpath,
 * with no {@code --add-opens}: Kryo must reach nothing the JDK keeps closed, and the depth limit
 * must reach that JDK's stream filter. The build's own JDK (17) runs the corpus in
 * {@link RoundTripCorpusTest}. A missing JDK fails the test; CI machines have it.
 */
class NewestJdkCorpusTest {
    static final String JDK = System.getProperty("msm.test.jdk25", "/usr/lib/jvm/temurin-25-jdk-amd64");

    @Test
    void theWholeCorpusPassesOnJdk25WithoutAddOpens() throws Exception {
        File java = new File(JDK, "bin/java");
        assertTrue(java.canExecute(), "JDK 25 is expected at " + JDK + " (the machines of this project have"
                + " it); install a JDK 25 there or point -Dmsm.test.jdk25=<its home> at one");
        Process p = new ProcessBuilder(java.getPath(), "-cp", System.getProperty("java.class.path"),
                CorpusMain.class.getName()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the corpus did not finish within 2 minutes on JDK 25");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("java.version=25"), "ran on JDK 25: " + out);
        assertTrue(out.contains("cases=" + 2 * Corpus.cases().size()), out);
        assertEquals(List.of(), out.lines().filter(l -> l.startsWith("FAILED")).toList());
        assertEquals(0, p.exitValue(), out);
    }
}

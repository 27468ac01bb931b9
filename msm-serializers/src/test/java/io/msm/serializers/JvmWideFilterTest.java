package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderException;

/**
 * msm sets its own stream filter on each session stream, which replaces the JVM-wide one for that
 * stream; what an operator refused with {@code -Djdk.serialFilter} must stay refused in sessions.
 * The JVM-wide filter is read once per JVM, so each case runs in a JVM of its own.
 */
class JvmWideFilterTest {

    @Test
    void aClassTheJvmWideFilterRejectsIsRefusedInSessionsToo() throws Exception {
        String out = runChild("-Djdk.serialFilter=!" + Corpus.Point.class.getName());
        assertTrue(out.contains("REFUSED") && out.contains(Corpus.Point.class.getName())
                && out.contains("jdk.serialFilter"), out);
    }

    /** The same session reads back without the JVM-wide filter: the case above is not vacuous. */
    @Test
    void withoutAJvmWideFilterTheSameSessionReads() throws Exception {
        assertEquals("READ", runChild(null).trim());
    }

    private static String runChild(String property) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        if (property != null) {
            command.add(property);
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Child.class.getName());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) > 0;) {
                out.write(buffer, 0, n);
            }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not end within 60 s: " + out);
        }
        String text = out.toString(StandardCharsets.UTF_8.name());
        // The child's last line is its verdict; anything before it is the JVM's or the log's.
        String[] lines = text.trim().split("\n");
        return lines[lines.length - 1];
    }

    /** Writes a session holding a webapp object with Java serialization and reads it back. */
    public static final class Child {
        public static void main(String[] args) {
            Transcoder java = Transcoding.create(new JavaSerializationTranscoderFactory());
            byte[] bytes = java.encode(new SessionContent(Map.of("point", new Corpus.Point(1, 2)), null));
            try {
                java.decode(bytes);
                System.out.println("READ");
            } catch (TranscoderException e) {
                System.out.println("REFUSED " + e.getMessage());
            }
        }
    }
}

package io.msm.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A CATALINA_BASE of its own beside an unpacked Tomcat distribution (CATALINA_HOME), as an operator
 * lays one out, and the command that starts Tomcat on it in the foreground ({@code catalina.sh run}),
 * whose java process is the one to measure or kill.
 */
public final class CatalinaBase {
    private CatalinaBase() {
    }

    /**
     * Makes the directories Tomcat needs and copies the distribution's configuration files but
     * server.xml, which the caller writes: ports, jvmRoute and host are its own.
     */
    public static void create(Path home, Path base) throws IOException {
        for (String dir : new String[] {"conf/Catalina/localhost", "lib", "logs", "temp", "webapps", "work"}) {
            Files.createDirectories(base.resolve(dir));
        }
        for (String file : new String[] {"web.xml", "catalina.properties", "logging.properties", "context.xml"}) {
            Files.copy(home.resolve("conf").resolve(file), base.resolve("conf").resolve(file));
        }
    }

    /** @return {@code catalina.sh run} on this base with this JVM's Java, the given options and no JAVA_OPTS */
    public static ProcessBuilder run(Path home, Path base, String catalinaOpts) {
        ProcessBuilder pb = new ProcessBuilder("sh", home.resolve("bin/catalina.sh").toString(), "run");
        Map<String, String> env = pb.environment();
        env.put("CATALINA_HOME", home.toString());
        env.put("CATALINA_BASE", base.toString());
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("CATALINA_OPTS", catalinaOpts);
        env.remove("JAVA_OPTS");
        return pb;
    }
}

package io.msm.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One Tomcat line under test: its unpacked distribution and the adapter jar an operator installs in it. */
record TomcatLine(String name, String version, String adapterModule) {

    /** From the e2e.lines property the build sets: {@code 7=7.0.109:msm-tc7-adapter,...}. */
    static List<TomcatLine> all() {
        List<TomcatLine> lines = new ArrayList<>();
        for (String entry : System.getProperty("e2e.lines").split(",")) {
            String[] nameRest = entry.split("=");
            String[] versionModule = nameRest[1].split(":");
            lines.add(new TomcatLine(nameRest[0], versionModule[0], versionModule[1]));
        }
        return lines;
    }

    Path home() {
        Path home = Path.of(System.getProperty("e2e.tomcats"), "apache-tomcat-" + version);
        if (!Files.isRegularFile(home.resolve("bin/catalina.sh"))) {
            throw new AssertionError("Tomcat " + version + " is not unpacked at " + home
                    + "; run the tests through Maven (mvn verify), which unpacks it");
        }
        return home;
    }

    Path adapterJar() {
        String version = System.getProperty("e2e.version");
        Path jar = Path.of(System.getProperty("e2e.root"), adapterModule, "target",
                adapterModule + "-" + version + "-all.jar");
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("the adapter jar " + jar + " is missing; build it with mvn package");
        }
        return jar;
    }

    /** 7, 8, 9, 10, 11 */
    int major() {
        return Integer.parseInt(version.substring(0, version.indexOf('.')));
    }

    /** Tomcat 10 and later speak jakarta.servlet. */
    String servletPackage() {
        return major() >= 10 ? "jakarta.servlet" : "javax.servlet";
    }

    @Override
    public String toString() {
        return "Tomcat " + version;
    }
}

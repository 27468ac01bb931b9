package io.msm.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * The test webapp, exploded: one servlet compiled for the line's servlet API (javax or jakarta)
 * against the distribution's own servlet-api.jar, a web.xml with FORM login on /secure/*, and the
 * login pages.
 */
final class E2eWebapp {
    private E2eWebapp() {
    }

    static Path build(TomcatLine line, Path dir) throws IOException {
        Path src = dir.resolve("src/e2e/E2eServlet.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, resource("E2eServlet.java.template").replace("SERVLET", line.servletPackage()));
        Path webapp = dir.resolve("webapp");
        Path classes = webapp.resolve("WEB-INF/classes");
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int status = javac.run(null, null, null, List.of("--release", "8", "-nowarn", "-d", classes.toString(),
                "-cp", line.home().resolve("lib/servlet-api.jar").toString(), src.toString()).toArray(new String[0]));
        if (status != 0) {
            throw new AssertionError("the test servlet did not compile for " + line);
        }
        Files.writeString(webapp.resolve("WEB-INF/web.xml"), resource("web.xml"));
        Files.writeString(webapp.resolve("login.html"), resource("login.html"));
        Files.writeString(webapp.resolve("error.html"), resource("error.html"));
        return webapp;
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = E2eWebapp.class.getResourceAsStream("/webapp/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

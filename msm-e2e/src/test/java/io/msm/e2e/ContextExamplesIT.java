package io.msm.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.testkit.MemcachedServer;

/**
 * Per Tomcat line, the context files of conf-examples/tomcat installed as their README says, as
 * conf/Catalina/localhost/xnat.xml with the webapp in webapps/xnat, start without a single WARNING
 * or SEVERE record in Tomcat's console. Tomcat ignores a {@code path} there, and a {@code docBase}
 * inside the host's appBase, and says so in a WARNING; it warns, too, of an attribute that sets
 * nothing, and a webapp or Manager that fails to start logs SEVERE. The files are used as written,
 * but for the memcached addresses.
 */
class ContextExamplesIT extends DistributionTest {
    private MemcachedServer n1;
    private MemcachedServer n2;

    @ParameterizedTest(name = "{0}")
    @MethodSource("lines")
    void theExampleContextFilesDeployWithoutAWarning(TomcatLine line) throws Exception {
        startMemcached();
        TomcatInstance tomcat = null;
        for (String example : List.of(ContextExample.STICKY, ContextExample.NONSTICKY)) {
            String xml = ContextExample.render(example, n1, n2, "");
            if (tomcat == null) {
                tomcat = start(line, xml);
            } else { // the same Tomcat, stopped, with the other example, as an operator switches
                tomcat.close();
                Files.writeString(tomcat.contextFile(), xml);
                tomcat.restart();
            }

            String sticky = "sticky=" + example.equals(ContextExample.STICKY);
            assertTrue(tomcat.lastConsole().lines().anyMatch(l -> l.contains("msm for " + TomcatInstance.CONTEXT + ": ")
                    && l.contains(sticky)), "msm started for the context with " + sticky);
            assertEquals(List.of(), tomcat.warnings(), "Tomcat's warnings about conf-examples/tomcat/" + example
                    + " installed as " + tomcat.contextFile() + "; the console: " + tomcat.consoleLog());
        }
    }

    /**
     * The control: the sticky example with the attributes Tomcat ignores in such a file, a path and
     * a docBase inside appBase, gets warnings that {@link TomcatInstance#warnings} finds, in the
     * console format of each line. Tomcat 7 says nothing of the path.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("lines")
    void theCheckFindsTheWarningsOfAContextFileWithPathAndDocBase(TomcatLine line) throws Exception {
        startMemcached();
        String example = ContextExample.render(ContextExample.STICKY, n1, n2, "");
        String xml = example.replace("<Context>", "<Context path=\"/xnat\" docBase=\"xnat\">");
        assertNotEquals(example, xml, "the example has a <Context> without attributes");

        TomcatInstance tomcat = start(line, xml);

        List<String> warnings = tomcat.warnings();
        assertTrue(warnings.stream().anyMatch(w -> w.contains("HostConfig") && w.contains("docBase")),
                "a warning of the docBase inside appBase: " + warnings);
        if (line.major() >= 8) {
            assertTrue(warnings.stream().anyMatch(w -> w.contains("HostConfig") && w.contains("path attribute")),
                    "a warning of the path attribute: " + warnings);
        }
    }

    private void startMemcached() {
        n1 = track(MemcachedServer.start());
        n2 = track(MemcachedServer.start());
    }

    private TomcatInstance start(TomcatLine line, String contextXml) throws Exception {
        Path webapp = E2eWebapp.build(line, dir.resolve("app"));
        return track(TomcatInstance.start(line, "tomcat1", dir.resolve("tomcat1"), webapp, contextXml));
    }
}

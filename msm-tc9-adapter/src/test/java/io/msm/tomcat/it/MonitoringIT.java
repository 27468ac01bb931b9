package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.junit.jupiter.api.Test;

/**
 * What the README's monitoring section promises, read as a monitor reads it: the bean names as
 * written there, every attribute of its tables, and the jmx_exporter rules of conf-examples.
 */
class MonitoringIT extends ClusterTest {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();

    /** The README's section from its heading to the next one. */
    private static String section() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int start = readme.indexOf("## Monitoring (JMX)");
        assertTrue(start >= 0, "the README has a monitoring section");
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }

    /** The README's bean names, for this test's webapp. */
    private static List<String> documentedNames(String section) {
        List<String> names = new ArrayList<>();
        for (String line : section.split("\n")) {
            if (line.startsWith("io.msm:")) {
                names.add(line.trim().replace("context=/xnat", "context=" + APP));
            }
        }
        return names;
    }

    /** Every backticked name in the first column of the table that follows {@code heading}. */
    private static List<String> attributes(String section, String heading) {
        List<String> names = new ArrayList<>();
        boolean inTable = false;
        for (String line : section.substring(section.indexOf(heading)).split("\n")) {
            if (line.startsWith("|")) {
                inTable = true;
                String first = line.split("\\|")[1];
                Matcher m = Pattern.compile("`([A-Za-z_0-9]+)`").matcher(first);
                while (m.find()) {
                    names.add(m.group(1));
                }
            } else if (inTable) {
                break;
            }
        }
        return names;
    }

    @Test
    void everyDocumentedAttributeIsReadableByTheDocumentedName() throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        new Browser().get(tomcat.url("/app/s/set?user=alice"));
        String section = section();
        List<String> names = documentedNames(section);
        assertEquals(3, names.size(), names.toString());

        ObjectName statistics = new ObjectName(names.get(0));
        List<String> counters = attributes(section, "`SessionStatistics` (");
        assertTrue(counters.size() > 25, counters.toString());
        for (String attribute : counters) {
            assertNotNull(server.getAttribute(statistics, attribute), attribute);
        }
        assertEquals(1, server.getAttribute(statistics, "SessionsInMemory"));
        assertEquals(countersOf(statistics).size(), counters.size(), "every attribute is documented");

        for (String node : new String[] {"n1", "n2"}) {
            ObjectName bean = new ObjectName(names.get(1).replace("node=n1", "node=" + node));
            for (String attribute : attributes(section, "`MemcachedNode`, one")) {
                assertNotNull(server.getAttribute(bean, attribute), node + " " + attribute);
            }
            assertEquals(Boolean.TRUE, server.getAttribute(bean, "Up"));
        }

        ObjectName held = new ObjectName(names.get(2));
        String heldText = section.substring(section.indexOf("`HeldEntries` has"));
        heldText = heldText.substring(0, heldText.indexOf("\n\n"));
        MBeanAttributeInfo[] heldAttributes = server.getMBeanInfo(held).getAttributes();
        assertEquals(8, heldAttributes.length, "sticky mode's collections");
        for (MBeanAttributeInfo a : heldAttributes) {
            assertTrue(heldText.contains("`" + a.getName() + "`"), a.getName() + " is documented");
            assertTrue(((Number) server.getAttribute(held, a.getName())).intValue() >= 0, a.getName());
        }
    }

    /** What a failover would lose shows before one: an attribute left out of the stored session is counted. */
    @Test
    void anAttributeLeftOutOfTheStoredSessionIsCounted() throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager("sessionBackupAsync", "false"));
        ObjectName statistics = new ObjectName(documentedNames(section()).get(0));
        Browser user = new Browser();
        user.get(tomcat.url("/app/s/set?user=alice"));
        assertEquals(0L, server.getAttribute(statistics, "ATTRIBUTES_LEFT_OUT"));
        user.get(tomcat.url("/app/s/set?cart=unserializable"));
        assertEquals(1L, server.getAttribute(statistics, "ATTRIBUTES_LEFT_OUT"), "stored without it, before the answer");
    }

    /** A context file from 2.3.2 may turn statistics off; the nodes' health, which a monitor pages on, stays. */
    @Test
    void withoutStatisticsTheNodesHealthIsStillPublished() throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager("enableStatistics", "false"));
        new Browser().get(tomcat.url("/app/s/set?user=alice"));
        String where = "host=localhost,context=" + APP;

        assertFalse(server.isRegistered(new ObjectName("io.msm:type=SessionStatistics," + where)));
        assertFalse(server.isRegistered(new ObjectName("io.msm:type=HeldEntries," + where)));
        assertEquals(Boolean.TRUE, attribute(new ObjectName("io.msm:type=MemcachedNode," + where + ",node=n1"), "Up"));
        assertEquals(Boolean.TRUE, attribute(new ObjectName("io.msm:type=MemcachedNode," + where + ",node=n2"), "Up"));
    }

    @Test
    void aNodeThatDiesShowsAsDownWithItsFailures() throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        new Browser().get(tomcat.url("/app/s/set?user=alice"));
        ObjectName n2 = new ObjectName("io.msm:type=MemcachedNode,host=localhost,context=" + APP + ",node=n2");
        io.msm.testkit.Await.until("a probe of n2 answered", WAIT,
                () -> ((Number) attribute(n2, "OperationsLastMinute")).longValue() > 0);

        this.n2.kill();

        io.msm.testkit.Await.until("n2 down", WAIT, () -> Boolean.FALSE.equals(attribute(n2, "Up")));
        // The lost connection shows at once; the health check counts it as a failure within a second.
        io.msm.testkit.Await.until("n2's failure counted", WAIT,
                () -> ((Number) attribute(n2, "Failures")).longValue() > 0);
        assertEquals(Boolean.TRUE, attribute(new ObjectName(n2.toString().replace("node=n2", "node=n1")), "Up"),
                "the other node stays up");
    }

    @Test
    void theJmxExporterRulesTurnEveryAttributeIntoAMetric() throws Exception {
        TomcatNode tomcat = tomcat("tomcat1", manager());
        new Browser().get(tomcat.url("/app/s/set?user=alice"));
        List<Pattern> patterns = new ArrayList<>();
        List<String> metricNames = new ArrayList<>();
        for (String line : Files.readAllLines(ROOT.resolve("conf-examples/jmx_exporter.yml"))) {
            String t = line.trim();
            if (t.startsWith("- pattern:")) {
                String p = t.substring("- pattern:".length()).trim();
                patterns.add(Pattern.compile(p.substring(1, p.length() - 1)));
            } else if (t.startsWith("name:")) {
                metricNames.add(t.substring("name:".length()).trim());
            }
        }
        assertFalse(patterns.isEmpty());
        List<String> metrics = new ArrayList<>();
        for (ObjectName bean : server.queryNames(new ObjectName("io.msm:context=" + APP + ",*"), null)) {
            for (MBeanAttributeInfo a : server.getMBeanInfo(bean).getAttributes()) {
                // How the exporter writes a bean attribute before it applies the rules.
                String line = bean.getDomain() + "<" + bean.getKeyPropertyListString().replace(",", ", ") + "><>"
                        + a.getName() + ": " + server.getAttribute(bean, a.getName());
                String metric = null;
                for (int i = 0; i < patterns.size() && metric == null; i++) {
                    Matcher m = patterns.get(i).matcher(line);
                    if (m.find()) {
                        metric = metricNames.get(i);
                        for (int g = m.groupCount(); g >= 1; g--) {
                            metric = metric.replace("$" + g, m.group(g));
                        }
                    }
                }
                assertNotNull(metric, "no rule matches " + line);
                metrics.add(metric.toLowerCase());
            }
        }
        assertTrue(metrics.contains("msm_backups_stored_total"), metrics.toString());
        assertTrue(metrics.contains("msm_backupqueuelength"), metrics.toString());
        assertTrue(metrics.contains("msm_node_up"), metrics.toString());
        assertTrue(metrics.contains("msm_node_p99microslastminute"), metrics.toString());
    }

    private Object attribute(ObjectName bean, String name) {
        try {
            return server.getAttribute(bean, name);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> countersOf(ObjectName bean) throws Exception {
        List<String> names = new ArrayList<>();
        for (MBeanAttributeInfo a : server.getMBeanInfo(bean).getAttributes()) {
            names.add(a.getName());
        }
        return names;
    }
}

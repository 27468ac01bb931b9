package io.msm.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.msm.testkit.MemcachedServer;

/**
 * A context file of conf-examples/tomcat as the operator installs it at
 * conf/Catalina/localhost/xnat.xml: the file as written, but for the memcached addresses
 * (mc1.example.org:11211 and mc2.example.org:11211 become the test's memcached n1 and n2). A test
 * may add attributes to the {@code <Manager>}, and says why where it does; nothing else changes, so
 * the examples cannot drift from what the end-to-end tests run.
 */
final class ContextExample {
    static final Path DIR = Path.of(System.getProperty("e2e.root"), "conf-examples", "tomcat");
    /** For a sticky balancer (conf-examples/apache/msm-sticky.conf). */
    static final String STICKY = "xnat-sticky.xml";
    /** For a balancer that sends any request anywhere (conf-examples/apache/msm-nonsticky.conf). */
    static final String NONSTICKY = "xnat-nonsticky.xml";

    /** TLS, SASL and encryption (conf-examples/memcached/memcached-tls.conf on the memcached side). */
    static final String SECURE = "xnat-secure.xml";

    private static final String MC1 = "mc1.example.org:11211";
    private static final String MC2 = "mc2.example.org:11211";

    private ContextExample() {
    }

    static Path file(String name) {
        return DIR.resolve(name);
    }

    /**
     * @param name a file of conf-examples/tomcat, such as {@link #STICKY}
     * @param extraAttributes attributes added to the end of the {@code <Manager>} element; "" for none
     * @return the file's text with the test's memcached addresses
     */
    static String render(String name, MemcachedServer n1, MemcachedServer n2, String extraAttributes)
            throws IOException {
        String xml = Files.readString(file(name));
        xml = replaceOnce(xml, name, MC1, "127.0.0.1:" + n1.port());
        xml = replaceOnce(xml, name, MC2, "127.0.0.1:" + n2.port());
        return extraAttributes.isEmpty() ? xml : withManagerAttributes(xml, name, extraAttributes);
    }

    /** A file the example names at a path of the operator's machine, such as /etc/msm/keys, made by the test elsewhere. */
    static String withFile(String xml, String name, String examplePath, Path testPath) {
        return replaceOnce(xml, name, examplePath, testPath.toString());
    }

    private static String replaceOnce(String xml, String name, String from, String to) {
        int at = xml.indexOf(from);
        if (at < 0 || xml.indexOf(from, at + 1) >= 0) {
            throw new AssertionError(file(name) + " should name " + from + " exactly once, as the end-to-end tests"
                    + " replace it with one of theirs");
        }
        return xml.substring(0, at) + to + xml.substring(at + from.length());
    }

    /** Inserts the attributes before the end of the one {@code <Manager .../>} element. */
    static String withManagerAttributes(String xml, String name, String attributes) {
        int start = xml.indexOf("<Manager ");
        if (start < 0 || xml.indexOf("<Manager ", start + 1) >= 0) {
            throw new AssertionError(file(name) + " should hold exactly one <Manager .../>");
        }
        boolean quoted = false;
        char quote = 0;
        for (int i = start; i < xml.length(); i++) {
            char c = xml.charAt(i);
            if (quoted) {
                quoted = c != quote;
            } else if (c == '"' || c == '\'') {
                quoted = true;
                quote = c;
            } else if (c == '>') {
                int end = xml.charAt(i - 1) == '/' ? i - 1 : i;
                return xml.substring(0, end) + " " + attributes + xml.substring(end);
            }
        }
        throw new AssertionError(file(name) + ": the <Manager element does not end");
    }
}

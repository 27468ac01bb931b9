package io.msm.tomcat;

import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.apache.catalina.Manager;
import org.apache.catalina.session.ManagerBase;
import org.apache.catalina.util.ServerInfo;
import org.apache.juli.logging.Log;

/**
 * Which Tomcat lines this jar serves, and that it is the only msm jar there. The wrong jar for the
 * line fails on a NoClassDefFoundError or NoSuchMethodError that names neither jar nor line, and
 * two msm jars in lib/ mix classes of two versions by the order of a directory listing; this
 * names the jar to install instead, before anything touches the servlet API.
 */
final class TomcatLine {
    /** A class of the servlet API this jar is compiled against: the Tomcat 10 build turns it into jakarta's. */
    private static final String SERVLET_API = "javax.servlet.ServletRequestListener";
    private static final String MANAGER_CLASS = "io/msm/tomcat/MemcachedSessionManager.class";
    private static final Log LOG = TomcatLogs.get(TomcatLine.class);

    private TomcatLine() {
    }

    /**
     * For a static initializer: the servlet API is all that can be told before the adapter's class
     * is known, and what fails first when a Tomcat 9 jar meets Tomcat 10 or the other way round.
     *
     * @throws IllegalStateException naming the jar to install
     */
    static void checkServletApi() {
        String problem = mismatch(serverInfo(), servletApiFound(), tomcat8OrLater(), null);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
    }

    /**
     * @param forTomcat7 the adapter's line: true for the Tomcat 7 jar
     * @return what stops the start: the wrong jar for this Tomcat, a Tomcat 7 too old, or differing
     *     msm jars; null when fine
     */
    static String check(ClassLoader msm, boolean forTomcat7) {
        String problem = mismatch(serverInfo(), servletApiFound(), tomcat8OrLater(), forTomcat7);
        if (problem != null) {
            return problem;
        }
        if (!hasAttributeFilters()) {
            return "msm needs Tomcat 7.0.68 or later, whose session manager has the session attribute filters msm"
                    + " uses; this is " + serverInfo() + ": update Tomcat";
        }
        List<URL> copies = copies(msm);
        if (copies.size() > 1 && sameBytes(copies)) {
            // The same jar twice (CATALINA_HOME/lib and CATALINA_BASE/lib): nothing mixes, but say so.
            LOG.warn(duplicates(copies));
            return null;
        }
        return duplicates(copies);
    }

    private static boolean servletApiFound() {
        try {
            Class.forName(SERVLET_API, false, TomcatLine.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Manager.getContext() came with Tomcat 8; Tomcat 7's managers have getContainer() alone. */
    private static boolean tomcat8OrLater() {
        try {
            Manager.class.getMethod("getContext");
            return true;
        } catch (NoSuchMethodException | LinkageError e) {
            return false;
        }
    }

    /**
     * Tomcat 7 before 7.0.68 lacks the session attribute filters msm calls: the webapp would fail on a
     * NoSuchMethodError that names no cause an operator can act on. Every later line has them.
     */
    private static boolean hasAttributeFilters() {
        try {
            ManagerBase.class.getMethod("getSessionAttributeNameFilter");
            ManagerBase.class.getMethod("willAttributeDistribute", String.class, Object.class);
            return true;
        } catch (NoSuchMethodException | LinkageError e) {
            return false;
        }
    }

    private static String serverInfo() {
        try {
            return ServerInfo.getServerInfo();
        } catch (LinkageError e) {
            return null;
        }
    }

    /**
     * The line is told by Tomcat's APIs, not by the version it reports, which hardened installations
     * change ({@code server.number}); that version only goes into the message.
     *
     * @param serverInfo what Tomcat says it is ({@code Apache Tomcat/9.0.113}), for the message
     * @param servletApiFound this jar's servlet API is there (javax, or jakarta in the Tomcat 10 jar)
     * @param forTomcat7 the adapter's line when known: true for the Tomcat 7 jar; null in a static initializer
     * @return what is wrong, naming the jar to install; null when this jar serves this Tomcat
     */
    static String mismatch(String serverInfo, boolean servletApiFound, boolean tomcat8OrLater, Boolean forTomcat7) {
        boolean jakarta = SERVLET_API.startsWith("jakarta.");
        String javaxJar = tomcat8OrLater ? "msm-tc9-adapter" : "msm-tc7-adapter";
        // The jar this Tomcat needs; null when it cannot be told yet (a javax Tomcat, the adapter not known).
        String right = !servletApiFound ? (jakarta ? javaxJar : "msm-tc10-adapter")
                : jakarta ? "msm-tc10-adapter" : forTomcat7 == null ? null : javaxJar;
        String mine = jakarta ? "msm-tc10-adapter" : forTomcat7 == null ? null
                : forTomcat7 ? "msm-tc7-adapter" : "msm-tc9-adapter";
        if (servletApiFound && (right == null || right.equals(mine))) {
            return null;
        }
        String jar = mine == null ? "the msm jar for the javax.servlet API (Tomcat 7 to 9)"
                : mine + (jakarta ? " (Tomcat 10.1 and 11)" : forTomcat7 ? " (Tomcat 7)" : " (Tomcat 8.5 and 9)");
        return "msm: the jar in lib/ is " + jar + ", and this is " + (serverInfo == null ? "another Tomcat" : serverInfo)
                + ": put " + right + "-<version>-all.jar in lib/ in its place";
    }

    /** @return where the class loader finds msm's manager class: more than one place is more than one jar */
    static List<URL> copies(ClassLoader loader) {
        if (loader == null) {
            return Collections.emptyList();
        }
        try {
            Set<String> seen = new LinkedHashSet<>();
            List<URL> found = new ArrayList<>();
            for (URL url : Collections.list(loader.getResources(MANAGER_CLASS))) {
                if (seen.add(url.toString())) {
                    found.add(url);
                }
            }
            return found;
        } catch (IOException e) {
            return Collections.emptyList(); // not judged: the start goes on as before this check
        }
    }

    /**
     * @return true when every copy comes from a jar of the same bytes: one jar installed twice. The
     *     jars are compared whole, since an unchanged class compiles to the same bytes in two versions.
     */
    static boolean sameBytes(List<URL> copies) {
        byte[] first = null;
        for (URL url : copies) {
            byte[] bytes;
            try (java.io.InputStream in = container(url).openStream()) {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                byte[] buffer = new byte[65536];
                for (int n; (n = in.read(buffer)) > 0;) {
                    out.write(buffer, 0, n);
                }
                bytes = out.toByteArray();
            } catch (IOException e) {
                return false;
            }
            if (first == null) {
                first = bytes;
            } else if (!java.util.Arrays.equals(first, bytes)) {
                return false;
            }
        }
        return true;
    }

    /** @return the jar a {@code jar:} URL names, or the URL itself (a class directory, compared by that class) */
    private static URL container(URL url) throws IOException {
        String jar = where(url);
        return jar.startsWith("jar:") && jar.length() < url.toString().length() ? new URL(jar.substring(4)) : url;
    }

    /** @return a {@code jar:} URL up to the entry ({@code jar:file:/…/msm.jar}), any other whole */
    private static String where(URL url) {
        String s = url.toString();
        int bang = s.indexOf("!/");
        return bang > 0 ? s.substring(0, bang) : s;
    }

    /** @return the problem of more than one copy, naming each; null for one or none */
    static String duplicates(List<URL> copies) {
        if (copies.size() < 2) {
            return null;
        }
        List<String> jars = new ArrayList<>();
        for (URL url : copies) {
            jars.add(where(url));
        }
        return "msm: " + copies.size() + " copies of msm are installed, and Tomcat mixes their classes: " + String.join(", ", jars)
                + "; keep the one jar for this Tomcat's line in lib/ (of CATALINA_HOME or CATALINA_BASE, not both)";
    }
}

package io.msm.tomcat;

import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.apache.catalina.util.ServerInfo;

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

    private TomcatLine() {
    }

    /**
     * For a static initializer: the servlet API is all that can be told before the adapter's class
     * is known, and what fails first when a Tomcat 9 jar meets Tomcat 10 or the other way round.
     *
     * @throws IllegalStateException naming the jar to install
     */
    static void checkServletApi() {
        String problem = mismatch(serverNumber(), servletApiFound(), null);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
    }

    /** @return what is wrong with this jar on this Tomcat, or null; {@code forTomcat7}: the adapter's line */
    static String check(ClassLoader msm, boolean forTomcat7) {
        String problem = mismatch(serverNumber(), servletApiFound(), forTomcat7);
        return problem != null ? problem : duplicates(copies(msm));
    }

    private static boolean servletApiFound() {
        try {
            Class.forName(SERVLET_API, false, TomcatLine.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private static String serverNumber() {
        try {
            return ServerInfo.getServerNumber();
        } catch (LinkageError e) {
            return null;
        }
    }

    /**
     * @param serverNumber Tomcat's version ({@code 9.0.113.0}); null or unreadable: not judged by it
     * @param forTomcat7 the adapter's line when known: true for the Tomcat 7 jar; null in a static initializer
     * @return what is wrong, naming the jar to install; null when this jar serves this Tomcat
     */
    static String mismatch(String serverNumber, boolean servletApiFound, Boolean forTomcat7) {
        boolean jakarta = SERVLET_API.startsWith("jakarta.");
        int major = major(serverNumber);
        // The jar this Tomcat needs: null when its version is unknown, "" when older than any msm serves.
        String right = major < 0 ? null : major < 7 ? "" : major == 7 ? "msm-tc7-adapter"
                : major <= 9 ? "msm-tc9-adapter" : "msm-tc10-adapter";
        // This jar: null for a javax one whose adapter is not known yet (7 or 9).
        String mine = jakarta ? "msm-tc10-adapter" : forTomcat7 == null ? null
                : forTomcat7 ? "msm-tc7-adapter" : "msm-tc9-adapter";
        boolean fits = servletApiFound && (right == null
                || !right.isEmpty() && (mine == null ? !right.equals("msm-tc10-adapter") : right.equals(mine)));
        if (fits) {
            return null;
        }
        String jar = mine == null ? "the msm jar for the javax.servlet API (Tomcat 7 to 9)"
                : mine + (jakarta ? " (Tomcat 10.1 and 11)" : forTomcat7 ? " (Tomcat 7)" : " (Tomcat 8.5 and 9)");
        String tomcat = serverNumber == null ? "a Tomcat without " + SERVLET_API.substring(0, SERVLET_API.lastIndexOf('.'))
                : "Tomcat " + serverNumber;
        if (right == null || right.isEmpty()) {
            return "msm: the jar in lib/ is " + jar + ", and this is " + tomcat + (right == null ? ""
                    : ", which msm does not run on (Tomcat 7 or later)") + ": install the msm jar for this Tomcat's line";
        }
        return "msm: the jar in lib/ is " + jar + ", and this is " + tomcat + ": put " + right
                + "-<version>-all.jar in lib/ in its place";
    }

    private static int major(String serverNumber) {
        if (serverNumber == null) {
            return -1;
        }
        int dot = serverNumber.indexOf('.');
        try {
            return Integer.parseInt(dot < 0 ? serverNumber : serverNumber.substring(0, dot));
        } catch (NumberFormatException e) {
            return -1;
        }
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

    /** @return the problem of more than one copy, naming each; null for one or none */
    static String duplicates(List<URL> copies) {
        if (copies.size() < 2) {
            return null;
        }
        List<String> jars = new ArrayList<>();
        for (URL url : copies) {
            String s = url.toString();
            int bang = s.indexOf("!/");
            jars.add(bang > 0 ? s.substring(0, bang) : s);
        }
        return "msm: " + copies.size() + " copies of msm are installed, and Tomcat mixes their classes: " + String.join(", ", jars)
                + "; keep the one jar for this Tomcat's line in lib/ (of CATALINA_HOME or CATALINA_BASE, not both)";
    }
}

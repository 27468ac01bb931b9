package io.msm.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.msm.testkit.MemcachedServer;

/**
 * An XNAT cluster of memcached-session-manager 2.3.2, as its documentation sets it up (the jars in
 * lib/, Java serialization, node ids), on two Tomcat 9 distributions behind Apache httpd, switched to
 * msm one Tomcat at a time while users keep working: between the steps every user makes a request,
 * which must find them logged in with their form and every increment of their counter. The first
 * Tomcat gets msm's class name; the second keeps 2.3.2's, with only the jars swapped.
 */
class MigrationFromMsm2IT extends DistributionTest {
    /** The conf-examples file for a Tomcat that joins the 2.3.2 cluster. */
    private static final String EXAMPLE = "xnat-from-msm2.xml";

    @Test
    void aClusterOf232SwitchesToMsmOneTomcatAtATime_andNobodyIsLoggedOut() throws Exception {
        Migration m = new Migration("msm2");
        m.usersLogIn(4);

        m.step("tomcat1 stops, gets msm's jar and class name, and starts", () -> m.switchToMsm(m.c.tomcat1(), false));
        m.usersLogInUntilOn(m.c.tomcat1(), 2); // users msm serves while 2.3.2 still runs beside it

        m.step("kill -9 of tomcat1 (msm): 2.3.2 takes its users over", () -> m.killAndRestart(m.c.tomcat1()));
        m.usersLogInUntilOn(m.c.tomcat1(), 2);
        assertTrue(m.onTomcat(m.c.tomcat2()) > 0, "2.3.2 serves users too");

        m.step("kill -9 of tomcat2 (2.3.2): msm takes its users over", () -> m.killAndRestart(m.c.tomcat2()));
        m.usersLogInUntilOn(m.c.tomcat2(), 2);

        m.step("tomcat2 stops, gets msm's jar only, and starts", () -> m.switchToMsm(m.c.tomcat2(), true));
        m.step("kill -9 of tomcat1, both on msm", () -> m.killAndRestart(m.c.tomcat1()));

        String console = Files.readString(m.c.tomcat2().consoleLog());
        assertTrue(console.contains("is memcached-session-manager 2.3.2's name, and msm runs in its place; write"
                + " className=\"io.msm.tomcat.MemcachedSessionManager\""), "the old class name works and says what to"
                + " write instead");
        assertTrue(Files.readString(m.c.tomcat1().consoleLog()).contains("MSM2_SESSIONS_READ"),
                "msm logs that it read sessions of 2.3.2");
    }

    /**
     * The control: without the copies 2.3.2 reads ({@code msm2-read}: msm reads 2.3.2's sessions but
     * writes only its own), the users msm served are logged out when a 2.3.2 Tomcat takes them over.
     */
    @Test
    void withoutTheCopiesFor232_itsTomcatLogsOutTheUsersMsmServed() throws Exception {
        Migration m = new Migration("msm2-read");
        m.usersLogIn(4);
        m.step("tomcat1 stops, gets msm's jar and class name, and starts", () -> m.switchToMsm(m.c.tomcat1(), false));
        m.usersLogInUntilOn(m.c.tomcat1(), 2);
        List<User> onMsm = m.usersOn(m.c.tomcat1());

        m.settle();
        m.c.tomcat1().kill();
        List<User> loggedOut = new ArrayList<>();
        for (User u : m.users) {
            if (!u.visitKeepsEverything()) {
                loggedOut.add(u);
            }
        }

        assertEquals(names(onMsm), names(loggedOut), "exactly the users msm served were logged out by 2.3.2");
    }

    private static List<String> names(List<User> users) {
        List<String> names = new ArrayList<>();
        users.forEach(u -> names.add(u.form));
        return names;
    }

    /** The cluster, its users, and the operator's steps. */
    private final class Migration {
        final Cluster c;
        final List<User> users = new ArrayList<>();
        final String ours;
        final String old;

        Migration(String compatibility) throws IOException {
            TomcatLine nine = lines().stream().filter(l -> l.major() == 9).findFirst()
                    .orElseThrow(() -> new AssertionError("the Tomcat 9 line is under test"));
            String example = Files.readString(ContextExample.file(EXAMPLE))
                    .replace("mc1.example.org:11211", "MC1").replace("mc2.example.org:11211", "MC2")
                    .replaceAll("(?s)<!--.*?-->", "");
            ours = example.replace("compatibility=\"msm2\"", "compatibility=\"" + compatibility + "\"");
            // What the 2.3.2 Tomcats run: the same <Manager> with 2.3.2's class and without compatibility.
            old = example.replace("io.msm.tomcat.MemcachedSessionManager", "de.javakaffee.web.msm.MemcachedBackupSessionManager")
                    .replace("\n           compatibility=\"msm2\"", "");
            assertFalse(old.contains("compatibility"), "the example holds compatibility=\"msm2\" on a line of its own");
            c = track(new Cluster(nine, dir)).startWith(msm232Jars(), old, "msm-sticky.conf");
        }

        void usersLogIn(int n) {
            for (int i = 0; i < n; i++) {
                User u = new User("user" + users.size());
                u.logIn(c);
                users.add(u);
            }
            everyoneVisits("after logging in");
        }

        /** New users until {@code count} of them are on the Tomcat (the balancer spreads new sessions). */
        void usersLogInUntilOn(TomcatInstance tomcat, int count) {
            int landed = 0;
            for (int tries = 0; landed < count && tries < 12; tries++) {
                User u = new User("user" + users.size());
                u.logIn(c);
                users.add(u);
                landed += u.servedBy.equals(tomcat.route()) ? 1 : 0;
            }
            assertEquals(count, landed, "new users reached " + tomcat.route());
            everyoneVisits("after new users logged in");
        }

        int onTomcat(TomcatInstance tomcat) {
            return usersOn(tomcat).size();
        }

        List<User> usersOn(TomcatInstance tomcat) {
            List<User> on = new ArrayList<>();
            users.stream().filter(u -> u.servedBy.equals(tomcat.route())).forEach(on::add);
            return on;
        }

        void step(String what, Step step) throws Exception {
            settle();
            step.run();
            everyoneVisits("after: " + what);
        }

        void everyoneVisits(String when) {
            for (User u : users) {
                assertTrue(u.visitKeepsEverything(), u.form + " " + when + ": " + u.last);
            }
        }

        /**
         * Both managers back up after the response, on a thread of their own (msm after its 100 ms
         * deferral). A kill right after a response would test that race, which is not this test's:
         * this waits until neither node has taken a write or a delete for a second.
         */
        void settle() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long seen = writes();
            long quietSince = System.nanoTime();
            while (System.nanoTime() - quietSince < TimeUnit.SECONDS.toNanos(1)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("memcached still took writes 30 s after the last request");
                }
                Thread.sleep(100);
                long now = writes();
                if (now != seen) {
                    seen = now;
                    quietSince = System.nanoTime();
                }
            }
        }

        private long writes() {
            long n = 0;
            for (MemcachedServer node : List.of(c.mc1(), c.mc2())) {
                Map<String, String> stats = node.stats();
                for (String figure : List.of("cmd_set", "cmd_touch", "delete_hits", "delete_misses")) {
                    String value = stats.get(figure);
                    if (value == null) {
                        throw new AssertionError("memcached on port " + node.port() + " gave no " + figure);
                    }
                    n += Long.parseLong(value);
                }
            }
            return n;
        }

        /** @param keepOldClassName only the jars are swapped, and compatibility added */
        void switchToMsm(TomcatInstance tomcat, boolean keepOldClassName) throws IOException {
            tomcat.stop();
            everyoneVisits("while " + tomcat.route() + " is stopped");
            String xml = keepOldClassName
                    ? ours.replace("io.msm.tomcat.MemcachedSessionManager", "de.javakaffee.web.msm.MemcachedBackupSessionManager")
                    : ours;
            tomcat.reinstall(List.of(c.line().adapterJar()), c.withMemcached(xml));
            tomcat.restart();
            c.restartApache(); // its balancer would skip the member it saw down for a minute
        }

        void killAndRestart(TomcatInstance tomcat) throws IOException {
            tomcat.kill();
            everyoneVisits("with " + tomcat.route() + " killed");
            tomcat.restart();
            c.restartApache();
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    /** A browser, logged in as alice, with a form of its own and a counter it increments at each visit. */
    private static final class User {
        final WebUser browser = new WebUser();
        final String form;
        int counter;
        String servedBy = "";
        WebUser.Page last;
        Cluster cluster;

        User(String form) {
            this.form = form;
        }

        void logIn(Cluster c) {
            cluster = c;
            String secure = c.apache().url("/xnat/secure/s");
            assertTrue(browser.get(secure).body().contains("login-form"), "the login page first");
            WebUser.Page login = browser.post(c.apache().url("/xnat/j_security_check"),
                    "j_username=alice&j_password=secret");
            assertTrue(login.status() == 302 || login.status() == 303, "login redirects: " + login.status());
            last = browser.get(secure + "?op=set&form=" + form);
            assertEquals("alice", last.get("user"), last.body());
            servedBy = last.get("servedBy");
        }

        /** @return true when the user is still logged in, with the form and every increment */
        boolean visitKeepsEverything() {
            last = browser.get(cluster.apache().url("/xnat/secure/s?op=incr"));
            if (last.status() != 200 || !"alice".equals(last.get("user")) || !form.equals(last.get("attr.form"))
                    || !String.valueOf(counter + 1).equals(last.get("attr.counter"))) {
                return false;
            }
            counter++;
            servedBy = last.get("servedBy");
            return true;
        }
    }

    private static List<Path> msm232Jars() throws IOException {
        Path dir = Path.of(System.getProperty("e2e.msm232"));
        try (Stream<Path> jars = Files.list(dir)) {
            List<Path> all = jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
            assertEquals(3, all.size(), "memcached-session-manager 2.3.2, its tc9 jar and spymemcached in " + dir);
            return all;
        }
    }
}

package io.msm.e2e;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import io.msm.testkit.Loopback;
import io.msm.testkit.MemcachedServer;

/**
 * What {@code ./demo.sh} runs: the operator's setup of {@link Cluster} with Tomcat 9, the context
 * file conf-examples/tomcat/xnat-sticky.xml and the balancer of conf-examples/apache/msm-sticky.conf,
 * and a user, alice, who logs in and fills in a form while the Tomcat serving her, then the memcached
 * node holding her session, are killed with SIGKILL. It prints what she sees at every step and exits
 * with 1 as soon as she is logged out or loses data. Everything it started is stopped at the end,
 * on failure and on Ctrl-C too.
 *
 * <p>Arguments: {@code [--keep-running] [--dir <work directory>]}. With --keep-running the killed
 * Tomcat and memcached start again, Apache httpd too (its balancer would skip the restarted Tomcat
 * for a minute), and everything stays up for curl or a browser until Ctrl-C or a kill of this JVM.
 * The system properties are the tests' ones: the msm-e2e pom sets them for exec:java too.
 */
public final class Demo {
    private static final String TOMCAT_LINE = "9";
    private static final String SECURE = "/xnat/secure/s";

    private final Cluster cluster;
    private final Path dir;
    private final WebUser alice = new WebUser();
    /** What alice has stored in her session so far, as the page shows it. */
    private final Map<String, String> data = new LinkedHashMap<>();
    private int step;
    /** The random part of her session id, once she has a session. */
    private String random;

    private Demo(Cluster cluster, Path dir) {
        this.cluster = cluster;
        this.dir = dir;
    }

    /** alice is logged out, lost data, or the demo could not go on. */
    private static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        boolean keepRunning = false;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--keep-running")) {
                keepRunning = true;
            } else if (args[i].equals("--dir") && i + 1 < args.length) {
                dir = Path.of(args[++i]);
            } else {
                System.err.println("usage: Demo [--keep-running] [--dir <work directory>]");
                System.exit(2);
            }
        }
        System.exit(run(keepRunning, dir));
    }

    private static int run(boolean keepRunning, Path dir) {
        long start = System.nanoTime();
        Cluster cluster = null;
        try {
            if (dir == null) {
                dir = Files.createTempDirectory("msm-demo");
            }
            Processes.recordIn(dir.resolve("pids"));
            TomcatLine line = TomcatLine.all().stream().filter(l -> l.name().equals(TOMCAT_LINE)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no Tomcat " + TOMCAT_LINE + " in e2e.lines"));
            say("msm demo: two %s behind Apache httpd, sessions in two memcached, all on 127.0.0.1 (in %s)",
                    line, dir);
            say("starting them...");
            cluster = new Cluster(line, dir).start(ContextExample.STICKY, "msm-sticky.conf");
            Demo demo = new Demo(cluster, dir);
            demo.describe();
            demo.walk();
            Files.writeString(dir.resolve("passed"), "");
            say("");
            say("OK: alice stayed logged in and kept her data through kill -9 of the Tomcat serving her and of"
                    + " the memcached node holding her session. (%d s)", (System.nanoTime() - start) / 1_000_000_000L);
            if (keepRunning) {
                demo.handOver();
                Thread.currentThread().join(); // until Ctrl-C or kill: the shutdown hooks stop everything
            }
            return 0;
        } catch (Failure e) {
            say("");
            say("FAILED: %s", e.getMessage());
            logs(cluster);
            return 1;
        } catch (Exception | AssertionError e) {
            say("");
            say("FAILED: the demo could not run: %s", e.getMessage() == null ? e : e.getMessage());
            logs(cluster);
            return 1;
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    private void describe() throws IOException {
        say("");
        MemcachedServer mc1 = cluster.mc1();
        MemcachedServer mc2 = cluster.mc2();
        TomcatInstance t1 = cluster.tomcat1();
        TomcatInstance t2 = cluster.tomcat2();
        row("memcached n1", "127.0.0.1:" + mc1.port(), mc1.pid());
        row("memcached n2", "127.0.0.1:" + mc2.port(), mc2.pid());
        row("tomcat1", t1.url("/xnat") + "  (jvmRoute tomcat1)", t1.pid());
        row("tomcat2", t2.url("/xnat") + "  (jvmRoute tomcat2)", t2.pid());
        row("Apache httpd", cluster.apache().url("/xnat"), cluster.apache().pid());
        say("  Each Tomcat is the unpacked distribution with lib/%s, the webapp in webapps/xnat,",
                cluster.line().adapterJar().getFileName());
        say("  and %s: conf-examples/tomcat/%s with the memcached addresses filled in:",
                "conf/Catalina/localhost/xnat.xml", ContextExample.STICKY);
        for (String l : Files.readString(t1.contextFile()).strip().split("\n")) {
            say("      %s", l);
        }
        say("  Apache httpd balances them with conf-examples/apache/msm-sticky.conf (Tomcat addresses filled in).");
        say("");
    }

    private void walk() throws Failure {
        String secure = url(SECURE);
        step("alice opens %s", SECURE);
        WebUser.Page page = show(alice.get(secure));
        check(page.status() == 200 && page.body().contains("login-form"), "the login form was expected", page);

        step("alice logs in: POST /xnat/j_security_check with j_username=alice");
        page = show(alice.post(url("/xnat/j_security_check"), "j_username=alice&j_password=secret"));
        check((page.status() == 302 || page.status() == 303) && page.location() != null,
                "the login was expected to redirect", page);

        step("her browser follows the redirect");
        page = loggedIn(alice.get(URI.create(secure).resolve(page.location()).toString()));
        random = Cluster.random(page.get("id"));

        step("alice fills in half a form: %s?op=set&form=half-filled", SECURE);
        data.put("form", "half-filled");
        page = loggedIn(alice.get(secure + "?op=set&form=half-filled"));
        String id = page.get("id");
        try {
            cluster.awaitCopy(id, "half-filled");
        } catch (AssertionError e) {
            throw new Failure("memcached " + Cluster.nodeId(id) + " got no copy of alice's session " + masked(id)
                    + " within 10 s");
        }
        note("memcached %s holds a copy of her session: msm backed it up after the response", Cluster.nodeId(id));

        TomcatInstance victim = cluster.tomcat(page.get("servedBy"));
        step("kill -9 %d: the java process of %s, the Tomcat serving alice", victim.pid(), victim.route());
        victim.kill();

        step("alice reloads %s", SECURE);
        page = loggedIn(alice.get(secure));
        check(!victim.route().equals(page.get("servedBy")), "a killed Tomcat cannot have answered", page);

        String nodeId = Cluster.nodeId(page.get("id"));
        MemcachedServer holder = cluster.memcached(nodeId);
        step("kill -9 %d: memcached %s, the node holding alice's session", holder.pid(), nodeId);
        holder.kill();

        step("alice reloads %s right away", SECURE);
        loggedIn(alice.get(secure));

        step("alice fills in the rest: %s?op=set&page=2", SECURE);
        data.put("page", "2");
        loggedIn(alice.get(secure + "?op=set&page=2"));

        step("alice reloads %s", SECURE);
        page = loggedIn(alice.get(secure));

        // Her session lives on in the Tomcat's memory; msm moves its copy to the node that is up at the
        // next request after it noticed the dead one. She keeps reloading until then.
        String otherId = nodeId.equals("n1") ? "n2" : "n1";
        MemcachedServer other = cluster.memcached(otherId);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!(Cluster.nodeId(page.get("id")).equals(otherId)
                && Cluster.holds(other, page.get("id"), "half-filled", "page"))) {
            if (System.nanoTime() > deadline) {
                throw new Failure("after 20 s memcached " + otherId + " still holds no copy of alice's session "
                        + masked(page.get("id")) + ": another failure would lose it");
            }
            Loopback.pause(500);
            if (!Cluster.nodeId(page.get("id")).equals(otherId)) {
                step("alice reloads %s", SECURE);
                page = loggedIn(alice.get(secure));
            }
        }
        note("memcached %s now holds a copy of her session, with form=half-filled and page=2", otherId);
    }

    /** With --keep-running: the killed Tomcat and memcached start again, then how to try it by hand. */
    private void handOver() throws IOException {
        for (TomcatInstance t : new TomcatInstance[] {cluster.tomcat1(), cluster.tomcat2()}) {
            if (!t.isRunning()) {
                say("starting %s again...", t.route());
                t.restart();
            }
        }
        for (String nodeId : new String[] {"n1", "n2"}) {
            MemcachedServer mc = cluster.memcached(nodeId);
            if (!mc.isRunning()) {
                say("starting memcached %s again (empty, on the same port)...", nodeId);
                mc.restart();
                Processes.record("memcached " + nodeId, mc.pid());
            }
        }
        say("starting Apache httpd again, so that its balancer forgets the Tomcat it saw fail...");
        cluster.restartApache();
        Path jar = dir.resolve("cookies");
        say("");
        say("Everything runs again:");
        row("memcached n1", "127.0.0.1:" + cluster.mc1().port(), cluster.mc1().pid());
        row("memcached n2", "127.0.0.1:" + cluster.mc2().port(), cluster.mc2().pid());
        row("tomcat1", cluster.tomcat1().url("/xnat"), cluster.tomcat1().pid());
        row("tomcat2", cluster.tomcat2().url("/xnat"), cluster.tomcat2().pid());
        row("Apache httpd", cluster.apache().url("/xnat"), cluster.apache().pid());
        say("");
        say("In a browser: %s (user alice, password secret). With curl, one failure at a time:", url(SECURE));
        String curl = "curl -s -b \"$jar\" -c \"$jar\" ";
        say("  jar=%s; rm -f \"$jar\"", jar);
        say("  %s%s", curl, url(SECURE) + "    # the login form");
        say("  %s-d 'j_username=alice&j_password=secret' -o /dev/null -w '%%{http_code}\\n' %s", curl,
                url("/xnat/j_security_check"));
        say("  %s'%s?op=set&form=mine'    # servedBy= names your Tomcat", curl, url(SECURE));
        say("  kill -9 %d    # if tomcat1 served you; kill -9 %d if tomcat2", cluster.tomcat1().pid(),
                cluster.tomcat2().pid());
        say("  %s%s    # still alice, form=mine, from the other Tomcat", curl, url(SECURE));
        say("  kill -9 %d    # memcached n1 if your id= has -n1; kill -9 %d if -n2", cluster.mc1().pid(),
                cluster.mc2().pid());
        say("  %s%s    # still alice, form=mine", curl, url(SECURE));
        say("");
        say("To stop everything: press Ctrl-C here, or run: kill %d", ProcessHandle.current().pid());
    }

    // ---- what alice sees, and the checks

    private WebUser.Page loggedIn(WebUser.Page page) throws Failure {
        show(page);
        check(page.status() == 200, "alice got HTTP " + page.status() + " instead of 200", page);
        check("alice".equals(page.get("user")), "alice is logged out (the page says user=" + page.get("user") + ")",
                page);
        for (Map.Entry<String, String> e : data.entrySet()) {
            String shown = page.get("attr." + e.getKey());
            check(e.getValue().equals(shown),
                    "alice lost her data: " + e.getKey() + "=" + shown + " instead of " + e.getValue(), page);
        }
        String id = page.get("id");
        check(id != null && id.matches(".*-n[12](\\..*)?"), "msm does not keep her session: its id "
                + masked(id) + " names no memcached node", page);
        if (random != null) {
            check(random.equals(Cluster.random(id)), "alice got another session", page);
        }
        return page;
    }

    private void check(boolean ok, String problem, WebUser.Page page) throws Failure {
        if (!ok) {
            String id = page.get("id");
            String body = id == null ? page.body().strip() : page.body().strip().replace(id, masked(id));
            throw new Failure("at step " + step + ", " + problem + "; the page:\n"
                    + body.substring(0, Math.min(800, body.length())));
        }
    }

    private WebUser.Page show(WebUser.Page page) {
        StringBuilder s = new StringBuilder("HTTP ").append(page.status());
        if (page.location() != null) {
            s.append("  redirect to ").append(page.location());
        } else if (page.body().contains("login-form")) {
            s.append("  the login form (not logged in)");
        } else {
            s.append("  user=").append(page.get("user"));
            page.lines().forEach((k, v) -> {
                if (k.startsWith("attr.")) {
                    s.append("  ").append(k.substring(5)).append('=').append(v);
                }
            });
            s.append("  servedBy=").append(page.get("servedBy")).append("  session=").append(masked(page.get("id")));
        }
        say("       %s", s);
        return page;
    }

    /** A session id with only the last four characters of its random part: {@code ...1a2b-n1.tomcat1}. */
    static String masked(String id) {
        if (id == null) {
            return "none";
        }
        String random = Cluster.random(id);
        if (random.isEmpty()) { // not an id of msm's: <random>[.<jvmRoute>]
            random = id.contains(".") ? id.substring(0, id.indexOf('.')) : id;
        }
        return "..." + random.substring(Math.max(0, random.length() - 4)) + id.substring(random.length());
    }

    private void step(String format, Object... args) {
        say("%2d. %s", ++step, String.format(format, args));
    }

    private static void note(String format, Object... args) {
        say("       (%s)", String.format(format, args));
    }

    private static void row(String name, String where, long pid) {
        say("  %-13s %-52s pid %d", name, where, pid);
    }

    private String url(String path) {
        return cluster.apache().url(path);
    }

    private static void logs(Cluster cluster) {
        if (cluster == null || cluster.tomcat1() == null) {
            return;
        }
        say("The Tomcats' consoles: %s, %s", cluster.tomcat1().consoleLog(),
                cluster.tomcat2() == null ? "-" : cluster.tomcat2().consoleLog());
        if (cluster.apache() != null) {
            say("Apache's error log: %s", cluster.apache().errorLogFile());
        }
    }

    private static void say(String format, Object... args) {
        System.out.println(args.length == 0 ? format : String.format(format, args));
        System.out.flush();
    }
}

package io.msm.tomcat.demo;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.Map;

import io.msm.testkit.MemcachedServer;
import io.msm.tomcat.it.Browser;
import io.msm.tomcat.it.TomcatNode;

/**
 * Two Tomcat 9 nodes sharing sessions through two memcached nodes. A user counts on tomcat1,
 * tomcat1 is stopped, the same user goes on counting on tomcat2; then a memcached node is killed
 * with SIGKILL and the count still goes on. With {@code --keep-running} everything stays up for a
 * browser or curl until Enter is pressed.
 */
public final class FailoverDemo {
    private FailoverDemo() {
    }

    public static void main(String[] args) throws Exception {
        boolean keepRunning = args.length > 0 && args[0].equals("--keep-running");
        try (MemcachedServer mc1 = MemcachedServer.start(); MemcachedServer mc2 = MemcachedServer.start()) {
            Map<String, String> manager = Map.of("memcachedNodes", mc1.node("n1") + "," + mc2.node("n2"));
            say("memcached n1 on 127.0.0.1:%d (pid %d), n2 on 127.0.0.1:%d (pid %d)", mc1.port(), mc1.pid(),
                    mc2.port(), mc2.pid());
            try (TomcatNode tomcat1 = new TomcatNode("tomcat1").webapp("/app", manager).start();
                    TomcatNode tomcat2 = new TomcatNode("tomcat2").webapp("/app", manager).start()) {
                say("tomcat1 at %s, tomcat2 at %s", tomcat1.url("/app/s/get"), tomcat2.url("/app/s/get"));
                if (keepRunning) {
                    interactive(tomcat1, tomcat2);
                    return;
                }
                Browser user = new Browser();
                for (int i = 0; i < 3; i++) {
                    show("tomcat1", user.get(tomcat1.url("/app/s/incr")));
                }
                waitForBackup();
                say("--- stopping tomcat1; the balancer now sends the user to tomcat2");
                tomcat1.close();
                for (int i = 0; i < 2; i++) {
                    show("tomcat2", user.get(tomcat2.url("/app/s/incr")));
                }
                waitForBackup();
                MemcachedServer holder = user.sessionId().contains("-n1") ? mc1 : mc2;
                say("--- kill -9 of the memcached node holding the session (pid %d)", holder.pid());
                holder.kill();
                Thread.sleep(1500); // the health check notices within a second
                for (int i = 0; i < 2; i++) {
                    show("tomcat2", user.get(tomcat2.url("/app/s/incr")));
                }
                say("--- the counter never restarted: the session survived a Tomcat and a memcached node");
            }
        }
    }

    private static void interactive(TomcatNode tomcat1, TomcatNode tomcat2) throws Exception {
        say("try:  curl -c /tmp/jar -b /tmp/jar %s", tomcat1.url("/app/s/incr"));
        say("then: curl -c /tmp/jar -b /tmp/jar %s", tomcat2.url("/app/s/incr"));
        say("press Enter to stop tomcat1, Enter again to stop everything");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        in.readLine();
        tomcat1.close();
        say("tomcat1 stopped; keep counting on tomcat2");
        in.readLine();
    }

    private static void waitForBackup() throws InterruptedException {
        Thread.sleep(300); // backups are asynchronous; give the last one a moment before the failure
    }

    private static void show(String tomcat, Browser.Page page) {
        say("%-8s HTTP %d  counter=%s  session=%s", tomcat, page.status(), page.get("attr.counter"), page.get("id"));
    }

    private static void say(String format, Object... args) {
        System.out.println(String.format(format, args));
    }
}

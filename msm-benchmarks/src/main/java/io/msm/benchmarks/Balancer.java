package io.msm.benchmarks;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What Apache's {@code mod_proxy_balancer} does in front of the Tomcats, as far as a fault run needs:
 * a sticky session goes to the Tomcat its id's route names, any other request to the next Tomcat in
 * turn, and a Tomcat that refused a connection is left out for a while ({@code retry}) while its
 * requests go to another one. A request already sent is never sent again: whether it took effect
 * is unknown, as for the balancer.
 */
final class Balancer {
    /** How long a Tomcat that refused a connection is left out, as mod_proxy's {@code retry}. */
    private static final long RETRY_NANOS = 5_000_000_000L;

    private final List<String> routes;
    private final int[] ports;
    private final AtomicLongArray downUntil;
    /** When a Tomcat's process was seen dead, 0 while it lives. */
    private final AtomicLongArray diedAt;
    private final AtomicInteger turn = new AtomicInteger();

    /** @param routes each Tomcat's jvmRoute, in the order of {@code ports} */
    Balancer(List<String> routes, int[] ports) {
        this.routes = routes;
        this.ports = ports.clone();
        this.downUntil = new AtomicLongArray(ports.length);
        this.diedAt = new AtomicLongArray(ports.length);
    }

    int size() {
        return ports.length;
    }

    /** @return the Tomcat's jvmRoute, which names it in what the run prints */
    String route(int tomcat) {
        return routes.get(tomcat);
    }

    int port(int tomcat) {
        return ports[tomcat];
    }

    /** @return the Tomcat for this request: the id's route when sticky and up, else the next one up */
    int choose(String sessionId, boolean sticky) {
        if (sticky && sessionId != null) {
            int dot = sessionId.lastIndexOf('.');
            int routed = dot < 0 ? -1 : routes.indexOf(sessionId.substring(dot + 1));
            if (routed >= 0 && isUp(routed)) {
                return routed;
            }
        }
        return next(-1);
    }

    /** @return the next Tomcat up other than {@code except}, or any other when none is up */
    int next(int except) {
        for (int i = 0; i < ports.length; i++) {
            int t = Math.floorMod(turn.getAndIncrement(), ports.length);
            if (t != except && isUp(t)) {
                return t;
            }
        }
        return except < 0 ? 0 : (except + 1) % ports.length;
    }

    /** The Tomcat refused a connection: its requests go elsewhere for a while. */
    void refused(int tomcat) {
        downUntil.set(tomcat, System.nanoTime() + RETRY_NANOS);
    }

    /** The Tomcat's process is gone (the fault script saw it end). */
    void died(int tomcat) {
        diedAt.set(tomcat, System.nanoTime());
        refused(tomcat);
    }

    /**
     * @return true when a request sent at {@code sentNanos} reached a Tomcat already dead: it went
     *     out on a pooled connection the dead process had closed, which mod_proxy checks before reuse,
     *     so it sends the request to another Tomcat instead
     */
    boolean diedBefore(int tomcat, long sentNanos) {
        long died = diedAt.get(tomcat);
        return died != 0 && sentNanos - died > 0;
    }

    private boolean isUp(int tomcat) {
        long until = downUntil.get(tomcat);
        return until == 0 || System.nanoTime() - until > 0;
    }
}

package io.msm.benchmarks;

import java.io.IOException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Users visiting at a fixed total rate through a {@link Balancer}, for as long as asked, whatever
 * the servers do: an open loop. Each worker thread owns some users and visits them in turn at its
 * share of the rate; with a worker per user, as the fault and soak runs have, each user waits for
 * their own pages only, as real users do. A visit's latency counts from when it was due, so a
 * stall shows in every visit it held up. With {@code churn} a user leaves after a visit with that
 * probability (its session is left to expire) and logs in afresh at the next one.
 */
final class FixedRateLoad {
    private final Balancer balancer;
    private final List<SimulatedUser> users;
    private final int workers;
    private final double churn;
    private final AtomicLong requests = new AtomicLong();

    FixedRateLoad(Balancer balancer, List<SimulatedUser> users, int workers, double churn) {
        this.balancer = balancer;
        this.users = users;
        this.workers = Math.min(workers, users.size());
        this.churn = churn;
    }

    /** @return requests answered or failed so far, over every run */
    long requests() {
        return requests.get();
    }

    /**
     * Visits until {@code millis} have passed since the timeline's start, then returns.
     *
     * @param ratePerSecond the total rate; {@link Double#POSITIVE_INFINITY} for as fast as answers come
     */
    void run(Timeline timeline, double ratePerSecond, long millis) throws InterruptedException {
        long end = timeline.startNanos() + millis * 1_000_000L;
        List<Thread> threads = new ArrayList<>();
        long interval = Double.isInfinite(ratePerSecond) ? 0 : (long) (1e9 * workers / ratePerSecond);
        for (int w = 0; w < workers; w++) {
            List<SimulatedUser> mine = new ArrayList<>();
            for (int u = w; u < users.size(); u += workers) {
                mine.add(users.get(u));
            }
            // Workers start spread over one interval, so that their visits do not arrive in bursts.
            long first = timeline.startNanos() + interval * w / workers;
            Thread t = new Thread(() -> work(mine, timeline, first, interval, end), "fixed-rate-" + w);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(millis + 120_000);
            t.interrupt();
        }
    }

    private void work(List<SimulatedUser> mine, Timeline timeline, long first, long interval, long end) {
        HttpConnection[] connections = new HttpConnection[balancer.size()];
        for (int t = 0; t < connections.length; t++) {
            connections[t] = new HttpConnection(balancer.port(t));
        }
        try {
            for (long k = 0; !Thread.currentThread().isInterrupted(); k++) {
                long intended = interval == 0 ? System.nanoTime() : first + k * interval;
                if (intended - end >= 0) {
                    return;
                }
                for (long wait = intended - System.nanoTime(); wait > 0; wait = intended - System.nanoTime()) {
                    LockSupport.parkNanos(wait);
                }
                SimulatedUser user = mine.get((int) (k % mine.size()));
                visit(user, connections, timeline, timeline.at(intended));
                timeline.latency(intended, System.nanoTime());
                requests.incrementAndGet();
                if (churn > 0 && user.id != null && ThreadLocalRandom.current().nextDouble() < churn) {
                    user.id = null; // gone: the session expires on its own
                }
            }
        } finally {
            for (HttpConnection c : connections) {
                c.close();
            }
        }
    }

    private void visit(SimulatedUser user, HttpConnection[] connections, Timeline timeline, Timeline.Bucket bucket) {
        String action = user.nextAction();
        int tomcat = balancer.choose(user.id, user.sticky);
        for (int attempt = 0; ; attempt++) {
            long sent = System.nanoTime();
            try {
                String problem = user.check(action, connections[tomcat].get(user.path + action, user.id), bucket);
                if (problem != null) {
                    timeline.problem(balancer.route(tomcat) + user.path + ": " + problem);
                }
                return;
            } catch (IOException e) {
                boolean neverServed = e instanceof ConnectException || balancer.diedBefore(tomcat, sent);
                if (!neverServed || attempt == balancer.size()) {
                    bucket.errors.increment(); // sent, no answer: whether it took effect is unknown
                    timeline.problem(balancer.route(tomcat) + user.path + action + " failed: " + e);
                    return;
                }
                // Nothing reached a live Tomcat: the balancer tries another one, as mod_proxy does.
                balancer.refused(tomcat);
                tomcat = balancer.next(tomcat);
            } catch (RuntimeException e) {
                bucket.errors.increment();
                timeline.problem(balancer.route(tomcat) + user.path + action + " failed: " + e);
                return;
            }
        }
    }
}

package io.msm.benchmarks;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A closed loop on loopback: each of N threads holds one keep-alive connection and sends its next
 * request as soon as the previous answer arrived, each time with the cookie of a user picked at
 * random. It stops at a deadline; every request counts, the ones that fail too. A renamed session
 * is followed as a browser follows it, and counted.
 */
final class LoadGenerator {
    /** Latencies kept per thread at most; far more than a round of a few seconds produces. */
    private static final int MAX_SAMPLES_PER_THREAD = 2_000_000;

    private final int port;
    private final int connections;

    LoadGenerator(int port, int connections) {
        this.port = port;
        this.connections = connections;
    }

    /** Runs one round against {@code path} (e.g. /msm-sticky-async/s/read) for {@code millis}. */
    RoundResult run(String path, CookieJar cookies, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        List<Worker> workers = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < connections; i++) {
            Worker w = new Worker(path, cookies, deadline);
            workers.add(w);
            w.thread.start();
        }
        for (Worker w : workers) {
            w.thread.join(millis + 30_000);
            if (w.thread.isAlive()) {
                w.thread.interrupt(); // a socket timeout ends it within seconds
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Tally tally = new Tally();
        int total = 0;
        for (Worker w : workers) {
            tally.add(w.tally);
            total += w.count;
        }
        long[] all = new long[total];
        int at = 0;
        for (Worker w : workers) {
            System.arraycopy(w.latencies, 0, all, at, w.count);
            at += w.count;
        }
        Arrays.sort(all);
        return new RoundResult(total / seconds, percentile(all, 0.50), percentile(all, 0.99), total, tally.errors,
                tally.non2xx, tally.lost, tally.renamed, tally.firstProblem);
    }

    private static double percentile(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.min(sortedNanos.length - 1, Math.ceil(p * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, index)] / 1e6;
    }

    private final class Worker implements Runnable {
        final Thread thread = new Thread(this, "load");
        private final String path;
        private final CookieJar cookies;
        private final long deadline;
        long[] latencies = new long[4096];
        int count;
        final Tally tally = new Tally();

        Worker(String path, CookieJar cookies, long deadline) {
            this.path = path;
            this.cookies = cookies;
            this.deadline = deadline;
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            try (HttpConnection connection = new HttpConnection(port)) {
                while (System.nanoTime() < deadline && count < MAX_SAMPLES_PER_THREAD
                        && !Thread.currentThread().isInterrupted()) {
                    int user = ThreadLocalRandom.current().nextInt(cookies.size());
                    String id = cookies.get(user);
                    long t0 = System.nanoTime();
                    try {
                        HttpConnection.Response r = connection.get(path, id);
                        record(System.nanoTime() - t0);
                        tally.check(r, cookies, user, id);
                    } catch (IOException | RuntimeException e) {
                        record(System.nanoTime() - t0);
                        tally.failed(e);
                    }
                }
            }
        }

        private void record(long nanos) {
            if (count == latencies.length) {
                latencies = Arrays.copyOf(latencies, latencies.length * 2);
            }
            latencies[count++] = nanos;
        }
    }
}

package io.msm.benchmarks;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;

/**
 * An open loop: requests are due at a fixed rate whatever the server does, request k at
 * {@code start + k / rate}, and a request's latency counts from when it was due, not from when a
 * connection was free to send it. A slow answer therefore shows in the percentiles of every request
 * it held up, instead of only slowing the generator down (coordinated omission, which a closed loop
 * suffers from). Connections take the next due request as they come free; there are enough of them
 * that at half the server's capacity none waits for long.
 */
final class OpenLoopGenerator {
    /** Latencies up to a minute, to three significant digits. */
    private static final long MAX_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final int port;
    private final int connections;

    OpenLoopGenerator(int port, int connections) {
        this.port = port;
        this.connections = connections;
    }

    OpenLoopResult run(String path, CookieJar cookies, double ratePerSecond, long millis) throws InterruptedException {
        long interval = (long) (1e9 / ratePerSecond);
        long due = (long) (ratePerSecond * millis / 1000.0);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        AtomicLong next = new AtomicLong();
        List<Worker> workers = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            Worker w = new Worker(path, cookies, start, interval, due, next);
            workers.add(w);
            w.thread.start();
        }
        for (Worker w : workers) {
            w.thread.join(millis + 60_000);
            if (w.thread.isAlive()) {
                w.thread.interrupt();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Histogram all = new Histogram(MAX_NANOS, 3);
        Tally tally = new Tally();
        for (Worker w : workers) {
            all.add(w.latencies);
            tally.add(w.tally);
        }
        return new OpenLoopResult(ratePerSecond, all.getTotalCount() / seconds, all, tally);
    }

    private final class Worker implements Runnable {
        final Thread thread = new Thread(this, "open-loop");
        final Histogram latencies = new Histogram(MAX_NANOS, 3);
        final Tally tally = new Tally();
        private final String path;
        private final CookieJar cookies;
        private final long start;
        private final long interval;
        private final long due;
        private final AtomicLong next;

        Worker(String path, CookieJar cookies, long start, long interval, long due, AtomicLong next) {
            this.path = path;
            this.cookies = cookies;
            this.start = start;
            this.interval = interval;
            this.due = due;
            this.next = next;
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            try (HttpConnection connection = new HttpConnection(port)) {
                for (long k = next.getAndIncrement(); k < due && !Thread.currentThread().isInterrupted();
                        k = next.getAndIncrement()) {
                    long intended = start + k * interval;
                    for (long wait = intended - System.nanoTime(); wait > 0; wait = intended - System.nanoTime()) {
                        LockSupport.parkNanos(wait);
                    }
                    int user = ThreadLocalRandom.current().nextInt(cookies.size());
                    String id = cookies.get(user);
                    try {
                        tally.check(connection.get(path, id), cookies, user, id);
                    } catch (IOException | RuntimeException e) {
                        tally.failed(e);
                    }
                    latencies.recordValue(Math.min(MAX_NANOS, System.nanoTime() - intended));
                }
            }
        }
    }
}

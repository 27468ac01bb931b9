package io.msm.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler on {@link FakeTime}: tasks run only when the test calls {@link #runDue} (after
 * advancing the time), on the test's thread. Enough of {@link ScheduledExecutorService} for the
 * engine's health check and deferred comparisons.
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {
    private final FakeTime time;
    private final List<Task> tasks = new ArrayList<>();
    private boolean shutdown;

    ManualScheduler(FakeTime time) {
        this.time = time;
    }

    /** Runs every task due by now, once each; a repeating one is due again after its delay. */
    void runDue() {
        List<Task> due = new ArrayList<>();
        synchronized (this) {
            for (Task t : tasks) {
                if (t.dueMillis <= time.millis()) {
                    due.add(t);
                }
            }
            tasks.removeAll(due);
        }
        for (Task t : due) {
            t.command.run();
            if (t.repeatMillis > 0) {
                synchronized (this) {
                    if (!shutdown) {
                        t.dueMillis = time.millis() + t.repeatMillis;
                        tasks.add(t);
                    }
                }
            }
        }
    }

    private synchronized Task add(Runnable command, long delay, long repeat, TimeUnit unit) {
        if (shutdown) {
            throw new RejectedExecutionException("stopped");
        }
        Task t = new Task(command, time.millis() + unit.toMillis(delay), unit.toMillis(repeat));
        tasks.add(t);
        return t;
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return add(command, delay, 0, unit);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        return add(command, initialDelay, Math.max(1, delay), unit);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return add(command, initialDelay, Math.max(1, period), unit);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("the engine schedules Runnables only");
    }

    @Override
    public void execute(Runnable command) {
        add(command, 0, 0, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        tasks.clear();
        return Collections.emptyList();
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
    }

    private final class Task implements ScheduledFuture<Object> {
        final Runnable command;
        long dueMillis;
        final long repeatMillis;

        Task(Runnable command, long dueMillis, long repeatMillis) {
            this.command = command;
            this.dueMillis = dueMillis;
            this.repeatMillis = repeatMillis;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueMillis - time.millis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(getDelay(TimeUnit.MILLISECONDS), o.getDelay(TimeUnit.MILLISECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterrupt) {
            synchronized (ManualScheduler.this) {
                return tasks.remove(this);
            }
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public boolean isDone() {
            return false;
        }

        @Override
        public Object get() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }
    }
}

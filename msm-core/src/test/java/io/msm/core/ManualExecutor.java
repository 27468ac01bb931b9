package io.msm.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An executor the test drives: it runs each task on the calling thread at once, or, while
 * {@link #hold held}, queues it until {@link #release}. A test so makes backups wait, puts a removal
 * or a late store behind them, and decides when they all run: every order on purpose, none by luck.
 */
final class ManualExecutor extends AbstractExecutorService {
    private final Deque<Runnable> queued = new ArrayDeque<>();
    private boolean held;
    private boolean shutdown;
    private boolean dropAtStop;

    synchronized void hold() {
        held = true;
    }

    /** Runs what was queued, in order, and what those tasks queue; later tasks run at once again. */
    void release() {
        while (true) {
            Runnable next;
            synchronized (this) {
                next = queued.poll();
                if (next == null) {
                    held = false;
                    return;
                }
            }
            next.run();
        }
    }

    /** A stop's wait ends with the queued tasks still waiting: they are dropped, as a busy pool drops them. */
    synchronized void dropAtStop() {
        dropAtStop = true;
    }

    synchronized int queued() {
        return queued.size();
    }

    @Override
    public void execute(Runnable task) {
        synchronized (this) {
            if (held) {
                queued.add(task);
                return;
            }
        }
        task.run();
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
        List<Runnable> left;
        synchronized (this) {
            shutdown = true;
            left = new ArrayList<>(queued);
            queued.clear();
        }
        return left;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown && queued.isEmpty();
    }

    /** What a stopping engine waits for: the queued tasks run now. */
    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        synchronized (this) {
            if (dropAtStop) {
                return queued.isEmpty();
            }
        }
        release();
        return true;
    }
}

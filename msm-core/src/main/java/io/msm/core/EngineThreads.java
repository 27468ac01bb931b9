package io.msm.core;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine's threads, made in one place and handed to the classes that use them, so that a test
 * can hand them executors it drives itself. All are daemon threads named after the webapp.
 */
final class EngineThreads {
    private EngineThreads() {
    }

    /**
     * The backup pool: its queue is bounded and a full one refuses ({@code AbortPolicy}), so that
     * {@link BackupService} runs the backup on the request thread instead of growing the heap.
     */
    static ExecutorService backupPool(int threads, int queueSize, String name) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<Runnable>(queueSize), numbered(name), new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    static ScheduledExecutorService single(String name) {
        return Executors.newSingleThreadScheduledExecutor(r -> daemon(r, name));
    }

    private static ThreadFactory numbered(String name) {
        AtomicInteger count = new AtomicInteger();
        return r -> daemon(r, name + "-" + count.incrementAndGet());
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        // Not the creating thread's (a request's or the start's: the webapp's loader), which a thread
        // still ending after a reload would keep reachable, with every class of that webapp.
        t.setContextClassLoader(EngineThreads.class.getClassLoader());
        return t;
    }
}

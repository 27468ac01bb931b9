package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Per-session ordering, replacement of waiting backups, and back-pressure when the pool is full. */
class BackupServiceTest {
    private static final long WAIT_SECONDS = 10;

    private final Statistics statistics = new Statistics();
    private BackupService service;

    @AfterEach
    void shutdown() {
        if (service != null) {
            service.shutdown(5000);
        }
    }

    private static void await(CountDownLatch latch, String what) {
        try {
            assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS), "timed out waiting for " + what);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void awaitAll(List<CompletableFuture<Void>> futures) throws Exception {
        CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void whileABackupRunsOnlyTheLatestWaitingOneRunsAfterIt() throws Exception {
        // Several threads, so that concurrent runs for one session would be possible if allowed.
        service = new BackupService(EngineThreads.backupPool(4, 100, "test-backup"), statistics, "/test");
        SessionState session = new SessionState();
        List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);

        List<CompletableFuture<Void>> futures = new ArrayList<>();
        futures.add(service.submit(session, () -> {
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            firstStarted.countDown();
            await(releaseFirst, "the test to release the first backup");
            ran.add(1);
            running.decrementAndGet();
        }));
        await(firstStarted, "the first backup to start");
        for (int i = 2; i <= 4; i++) {
            int n = i;
            futures.add(service.submit(session, () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                ran.add(n);
                running.decrementAndGet();
            }));
        }
        releaseFirst.countDown();

        awaitAll(futures);
        assertEquals(List.of(1, 4), ran);
        assertEquals(1, maxRunning.get());
    }

    /**
     * A fault of msm's own repeats at every backup: one ERROR a minute, naming the webapp and the
     * session, not a stack trace per backup; the sessions' later writes still run.
     */
    @Test
    void aJobThatFailsUnexpectedlyIsLoggedOnceAMinuteWithItsSession() throws Exception {
        service = new BackupService(EngineThreads.backupPool(2, 100, "test-backup"), statistics, "/test");
        try (JulCapture log = JulCapture.of(BackupService.class)) {
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            SessionId first = SessionId.of("5F4DCC3B5AA765D61D8327DEB882CF99", "n1", null);
            for (int i = 0; i < 20; i++) {
                SessionId id = i == 0 ? first : SessionId.of(String.format("%032X", i), "n1", null);
                futures.add(service.submit(id, () -> {
                    throw new IllegalStateException("a fault of msm's");
                }));
            }
            awaitAll(futures);
            AtomicInteger ranAfter = new AtomicInteger();
            service.submit(first, ranAfter::incrementAndGet).get(WAIT_SECONDS, TimeUnit.SECONDS);

            assertEquals(1, ranAfter.get(), "the session's next write runs");
            assertEquals(1, log.lines().size(), log.lines().toString());
            assertTrue(log.lines().get(0).contains("msm for /test") && log.lines().get(0).contains("…"),
                    log.lines().get(0));
        }
    }

    @Test
    void aWaitingRemovalIsNeverReplacedByALaterBackup() throws Exception {
        service = new BackupService(EngineThreads.backupPool(2, 100, "test-backup"), statistics, "/test");
        SessionState session = new SessionState();
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        CompletableFuture<Void> first = service.submit(session, () -> {
            firstStarted.countDown();
            await(releaseFirst, "the test to release the first backup");
            ran.add("backup");
        });
        await(firstStarted, "the first backup to start");
        CompletableFuture<Void> removal = service.submit(session, new BackupService.Job() {
            @Override
            public boolean removes() {
                return true;
            }

            @Override
            public void run() {
                ran.add("removal");
            }
        });
        CompletableFuture<Void> late = service.submit(session, () -> ran.add("late backup"));
        releaseFirst.countDown();

        awaitAll(List.of(first, removal, late));
        assertEquals(List.of("backup", "removal"), ran);
    }

    @Test
    void manyBackupsOfOneSessionRunInSubmitOrderAndNeverTogether() throws Exception {
        service = new BackupService(EngineThreads.backupPool(4, 100, "test-backup"), statistics, "/test");
        SessionState session = new SessionState();
        List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();

        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            int n = i;
            futures.add(service.submit(session, () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                ran.add(n);
                running.decrementAndGet();
            }));
        }

        awaitAll(futures);
        assertEquals(1, maxRunning.get());
        assertEquals(499, ran.get(ran.size() - 1), "the latest backup always runs");
        for (int i = 1; i < ran.size(); i++) {
            assertTrue(ran.get(i - 1) < ran.get(i), "out of order: " + ran);
        }
    }

    @Test
    void whenPoolAndQueueAreFullTheCallerRunsTheBackup() throws Exception {
        service = new BackupService(EngineThreads.backupPool(1, 1, "test-backup"), statistics, "/test");
        CountDownLatch busyStarted = new CountDownLatch(1);
        CountDownLatch releaseBusy = new CountDownLatch(1);
        // Session A occupies the only thread, session B the only queue place.
        CompletableFuture<Void> a = service.submit(new SessionState(), () -> {
            busyStarted.countDown();
            await(releaseBusy, "the test to release the pool");
        });
        await(busyStarted, "the pool thread to be busy");
        CompletableFuture<Void> b = service.submit(new SessionState(), () -> {
        });

        AtomicReference<String> ranOn = new AtomicReference<>();
        CompletableFuture<Void> c = service.submit(new SessionState(), () -> ranOn.set(Thread.currentThread().getName()));

        assertTrue(c.isDone(), "the caller's backup ran before submit returned");
        assertEquals(Thread.currentThread().getName(), ranOn.get());
        assertEquals(1, statistics.get(Statistics.Counter.BACKUPS_RUN_BY_REQUEST_THREAD));
        assertTrue(!a.isDone() && !b.isDone(), "the pool's backups were still waiting");

        releaseBusy.countDown();
        awaitAll(List.of(a, b));
        assertEquals(1, statistics.get(Statistics.Counter.BACKUPS_RUN_BY_REQUEST_THREAD));
    }

    /**
     * No thread could be made for a backup ("unable to create native thread", the heap full in passing):
     * the session's later backups, a logout's delete among them, must not wait behind it for good.
     */
    @Test
    void aPoolThatFailsWithAnErrorLeavesTheSessionsLaterBackupsRunning() throws Exception {
        java.util.concurrent.ExecutorService real = EngineThreads.backupPool(1, 10, "test-backup");
        AtomicInteger executions = new AtomicInteger();
        java.util.concurrent.ExecutorService failingOnce = new java.util.concurrent.AbstractExecutorService() {
            @Override
            public void execute(Runnable command) {
                if (executions.incrementAndGet() == 1) {
                    throw new OutOfMemoryError("unable to create native thread (test)");
                }
                real.execute(command);
            }

            @Override
            public void shutdown() {
                real.shutdown();
            }

            @Override
            public List<Runnable> shutdownNow() {
                return real.shutdownNow();
            }

            @Override
            public boolean isShutdown() {
                return real.isShutdown();
            }

            @Override
            public boolean isTerminated() {
                return real.isTerminated();
            }

            @Override
            public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
                return real.awaitTermination(timeout, unit);
            }
        };
        service = new BackupService(failingOnce, statistics, "/test");
        SessionState session = new SessionState();
        AtomicInteger ran = new AtomicInteger();

        CompletableFuture<Void> first = service.submit(session, ran::incrementAndGet);
        CompletableFuture<Void> second = service.submit(session, ran::incrementAndGet);

        awaitAll(List.of(first, second));
        assertEquals(2, ran.get(), "both backups ran");
        // The slot is retired just after its last waiters are told.
        io.msm.testkit.Await.until("nothing left waiting", java.time.Duration.ofSeconds(10), () -> service.waiting() == 0);
    }

    /**
     * A job's error whose log line fails too (the heap still full as the stack trace is written): the
     * session's later backups, a logout's delete among them, must still run.
     */
    @Test
    void aJobWhoseErrorCannotEvenBeLoggedLeavesTheSessionsLaterBackupsRunning() throws Exception {
        service = new BackupService(EngineThreads.backupPool(1, 10, "test-backup"), statistics, "/test");
        SessionState session = new SessionState();
        CountDownLatch failing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Void> first = service.submit(session, () -> {
            failing.countDown();
            await(release, "the second job to wait");
            throw new Unloggable();
        });
        await(failing, "the first job to run");
        AtomicInteger ran = new AtomicInteger();
        CompletableFuture<Void> second = service.submit(session, ran::incrementAndGet);
        release.countDown();

        awaitAll(List.of(first, second));
        assertEquals(1, ran.get(), "the job after the failed one ran");
        // The slot is retired just after its last waiters are told.
        io.msm.testkit.Await.until("nothing left waiting", java.time.Duration.ofSeconds(10), () -> service.waiting() == 0);
    }

    /** An error that fails again as a log line writes it. */
    private static final class Unloggable extends Error {
        private static final long serialVersionUID = 1L;

        @Override
        public String getMessage() {
            throw new StackOverflowError("test: logging failed too");
        }

        @Override
        public String toString() {
            throw new StackOverflowError("test: logging failed too");
        }

        @Override
        public StackTraceElement[] getStackTrace() {
            throw new StackOverflowError("test: logging failed too");
        }
    }
}

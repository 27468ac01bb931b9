package io.msm.core;

import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What the engine runs on: the store, the clocks and the threads. Production builds it with
 * {@link #real}; a test builds its own, with an in-memory store, a clock it advances and executors
 * it drives, so that orders are made to happen instead of waited for.
 */
final class EngineEnvironment {
    final SessionStore store;
    final Clock clock;
    final Ticker ticker;
    final ExecutorService backupPool;
    final ScheduledExecutorService healthChecks;
    /** Null unless sticky mode backs up asynchronously. */
    final ScheduledExecutorService comparisons;
    /** The webapp, as lines that no session or node names say it (the context path). */
    final String webapp;

    EngineEnvironment(SessionStore store, Clock clock, Ticker ticker, ExecutorService backupPool,
            ScheduledExecutorService healthChecks, ScheduledExecutorService comparisons, String webapp) {
        this.webapp = webapp;
        this.store = store;
        this.clock = clock;
        this.ticker = ticker;
        this.backupPool = backupPool;
        this.healthChecks = healthChecks;
        this.comparisons = comparisons;
    }

    /**
     * @param name for thread names, e.g. the context path
     * @param maxContentBytes the largest content any of the transcoders decodes
     */
    static EngineEnvironment real(Settings settings, String name, Clock clock, long maxContentBytes)
            throws IOException {
        SessionStore store = PartedStore.reading(new SpymemcachedStore(settings.nodes(), settings, Ticker.SYSTEM,
                "msm-dns-" + name), maxContentBytes);
        return new EngineEnvironment(store, clock,
                Ticker.SYSTEM,
                EngineThreads.backupPool(settings.backupThreadCount(), settings.backupQueueSize(), "msm-backup-" + name),
                EngineThreads.single("msm-health-" + name),
                settings.sticky() && settings.backupAsync() ? EngineThreads.single("msm-compare-" + name) : null,
                name);
    }

    /** For a start that failed before its engine could: what {@link SessionEngine#close} would end. */
    void close() {
        try {
            healthChecks.shutdownNow();
            backupPool.shutdownNow();
            if (comparisons != null) {
                comparisons.shutdownNow();
            }
        } finally {
            store.close();
        }
    }
}

package io.msm.core;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.msm.benchmarks.Payload;
import io.msm.serializers.JavaSerializationTranscoderFactory;
import io.msm.testkit.MemcachedServer;

/**
 * The decision to skip backing up a session the request did not change, in sticky mode: the
 * engine's whole {@code afterRequest} path with an unchanged snapshot against a real memcached
 * (it must find "unchanged, expiry fresh" and send nothing), and its parts. Baseline: transcoding
 * the session alone, which the decision needs as input.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class UnchangedSessionBenchmark {
    private MemcachedServer memcached;
    private SessionEngine engine;
    private Transcoder java;
    private SessionSnapshot snapshot;
    private SessionState state;
    private byte[] payload;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        memcached = MemcachedServer.start();
        java = new JavaSerializationTranscoderFactory()
                .create(new TranscoderContext(getClass().getClassLoader(), null, false));
        Settings settings = Settings.parse(Map.of(Settings.MEMCACHED_NODES, memcached.node("n1")));
        engine = SessionEngine.start(settings, java, List.of(), "bench:", "jmh", Clock.systemUTC());
        long now = System.currentTimeMillis();
        snapshot = new SessionSnapshot(SessionId.parse("5F4DCC3B5AA765D61D8327DEB882CF99-n1.tomcat1"), now, now, 1800, null,
                new SessionContent(Payload.create(42), null));
        state = new SessionState();
        engine.sticky().afterRequest(snapshot, state); // stores once; every later call finds it unchanged
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (state.storedFingerprint == 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the first backup did not reach memcached within 10 s");
            }
            Thread.sleep(10);
        }
        payload = java.encode(snapshot.content());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        long stored = engine.statistics().get(Statistics.Counter.BACKUPS_STORED)
                + engine.statistics().get(Statistics.Counter.BACKUPS_TOUCHED);
        engine.close();
        memcached.close();
        if (stored != 1) {
            throw new IllegalStateException("afterRequestUnchanged must measure the skip, yet memcached was written "
                    + stored + " times");
        }
    }

    @Benchmark
    public byte[] baselineTranscode() {
        return java.encode(snapshot.content());
    }

    @Benchmark
    public long fingerprint() {
        return Fingerprint.of(payload, snapshot.creationTime(), snapshot.maxInactiveInterval(), snapshot.authType());
    }

    @Benchmark
    public long transcodeAndFingerprint() {
        byte[] bytes = java.encode(snapshot.content());
        return Fingerprint.of(bytes, snapshot.creationTime(), snapshot.maxInactiveInterval(), snapshot.authType());
    }

    @Benchmark
    public SessionState afterRequestUnchanged() {
        engine.sticky().afterRequest(snapshot, state);
        return state;
    }
}

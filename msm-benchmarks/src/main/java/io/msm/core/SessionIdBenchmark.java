package io.msm.core;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Session id parsing, done several times per request ({@code <random>-<nodeId>.<jvmRoute>}).
 * Baseline: finding the two separators, the scan any parser must make.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SessionIdBenchmark {
    private final String id = "5F4DCC3B5AA765D61D8327DEB882CF99-n1.tomcat1";
    private final String foreign = "5F4DCC3B5AA765D61D8327DEB882CF99";

    @Benchmark
    public int baselineSeparators() {
        int dot = id.indexOf('.');
        return dot + id.lastIndexOf('-', dot);
    }

    @Benchmark
    public SessionId parse() {
        return SessionId.parse(id);
    }

    @Benchmark
    public SessionId parseForeign() {
        return SessionId.parse(foreign);
    }

    @Benchmark
    public String parseAndRename() {
        return SessionId.parse(id).withRoute("tomcat2").toString();
    }
}

package io.msm.core;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.msm.benchmarks.Payload;
import io.msm.serializers.JavaSerializationTranscoderFactory;

/**
 * The stored frame around the realistic session's Java-serialized attributes (about 3 KB):
 * encoding it for a store and decoding it on a load. Baseline: copying the payload and taking its
 * CRC-32, the least any checksummed frame costs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SessionFrameBenchmark {
    private byte[] payload;
    private byte[] frame;
    private final long created = System.currentTimeMillis();

    @Setup
    public void setUp() {
        Transcoder java = new JavaSerializationTranscoderFactory()
                .create(new TranscoderContext(getClass().getClassLoader(), null, false));
        payload = java.encode(new SessionContent(Payload.create(42), null));
        frame = new SessionFrame(java.id(), created, created + 1000, 1800, "FORM", payload).encode();
    }

    @Benchmark
    public byte[] baselineCopyAndCrc() {
        CRC32 crc = new CRC32();
        crc.update(payload, 0, payload.length);
        byte[] copy = Arrays.copyOf(payload, payload.length + 48);
        copy[0] = (byte) crc.getValue();
        return copy;
    }

    @Benchmark
    public byte[] encode() {
        return new SessionFrame(1, created, created + 1000, 1800, "FORM", payload).encode();
    }

    @Benchmark
    public SessionFrame decode() throws FrameException {
        return SessionFrame.decode(frame);
    }
}

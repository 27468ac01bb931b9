package io.msm.benchmarks;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderException;
import io.msm.serializers.JavaSerializationTranscoderFactory;
import io.msm.serializers.UncheckedTranscoders;
import io.msm.serializers.kryo.KryoTranscoderFactory;

/**
 * Kryo against Java serialization (the baseline beside the subject) on {@link RealisticSession},
 * each with msm's class checks and limits (as shipped) and without them (the checks' cost).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TranscoderBenchmark {
    @Param({"java", "kryo"})
    String transcoder;

    @Param({"checked", "unchecked"})
    String safety;

    private Transcoder subject;
    private SessionContent session;
    private byte[] encoded;

    @Setup
    public void setUp() throws TranscoderException {
        ClassLoader loader = getClass().getClassLoader();
        boolean kryo = transcoder.equals("kryo");
        if (safety.equals("checked")) {
            TranscoderContext context = new TranscoderContext(loader, null, false);
            subject = kryo ? new KryoTranscoderFactory().create(context)
                    : new JavaSerializationTranscoderFactory().create(context);
        } else {
            subject = kryo ? UncheckedTranscoders.kryo(loader) : UncheckedTranscoders.java(loader);
        }
        session = RealisticSession.create();
        encoded = subject.encode(session);
        if (subject.decode(encoded).attributes().size() != session.attributes().size()) {
            throw new IllegalStateException(transcoder + " lost attributes of the benchmark session");
        }
    }

    @Benchmark
    public byte[] serialize() {
        return subject.encode(session);
    }

    @Benchmark
    public SessionContent deserialize() throws TranscoderException {
        return subject.decode(encoded);
    }
}

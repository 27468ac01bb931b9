package io.msm.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.msm.core.EncodedBlocks;
import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;
import io.msm.serializers.JavaSerializationTranscoderFactory;
import io.msm.serializers.kryo.KryoTranscoderFactory;

/**
 * What an encode costs when the bytes of unchanged attributes are reused ({@link EncodedBlocks}),
 * beside a full encode of the same session: the load run's eight-attribute payload, unchanged (a
 * read), and with its counter set to a new value (a write).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class EncodeReuseBenchmark {
    @Param({"java", "kryo"})
    String transcoder;

    private Transcoder subject;
    private Map<String, Object> attributes;
    private SessionContent session;
    private final EncodedBlocks blocks = new EncodedBlocks();
    private int counter;

    @Setup
    public void setUp() {
        TranscoderContext context = new TranscoderContext(getClass().getClassLoader(), null, false);
        subject = transcoder.equals("kryo") ? new KryoTranscoderFactory().create(context)
                : new JavaSerializationTranscoderFactory().create(context);
        attributes = new LinkedHashMap<>(Payload.create(7));
        session = new SessionContent(attributes, null);
        subject.encode(session, blocks);
        subject.encode(session, blocks);
        if (blocks.reused() != attributes.size()) {
            throw new IllegalStateException("only " + blocks.reused() + " of " + attributes.size()
                    + " attributes of the payload reuse their bytes");
        }
    }

    @Benchmark
    public byte[] full() {
        return subject.encode(session);
    }

    @Benchmark
    public byte[] unchanged() {
        return subject.encode(session, blocks);
    }

    @Benchmark
    public byte[] counterSet() {
        attributes.put(Payload.COUNTER, ++counter);
        return subject.encode(new SessionContent(attributes, null), blocks);
    }
}

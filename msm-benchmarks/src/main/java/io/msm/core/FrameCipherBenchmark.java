package io.msm.core;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
 * What {@code encryptionKeys} adds per stored frame: sealing the realistic session's frame (about
 * 3 KB with Java serialization) with AES-256-GCM, opening it, and the keyed hash that names one of
 * its memcached keys. Compare with {@link SessionFrameBenchmark} and the transcoders' figures.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FrameCipherBenchmark {
    private static final String OWNER = "localhost_/xnat_5F4DCC3B5AA765D61D8327DEB882CF99-n1.tomcat1";

    private FrameCipher cipher;
    private SessionNames names;
    private byte[] frame;
    private byte[] sealed;
    private final SessionId id = SessionId.parse("5F4DCC3B5AA765D61D8327DEB882CF99-n1.tomcat1");

    @Setup
    public void setUp() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path file = Files.createTempFile("msm-bench-keys", ".txt");
        file.toFile().deleteOnExit();
        Files.write(file, ("k1:" + Base64.getEncoder().encodeToString(key) + "\n").getBytes(StandardCharsets.US_ASCII));
        List<String> errors = new ArrayList<>();
        EncryptionKeys keys = EncryptionKeys.read("encryptionKeys", file.toString(), errors);
        if (!errors.isEmpty()) {
            throw new IllegalStateException(String.valueOf(errors));
        }
        cipher = new FrameCipher(keys);
        names = new SessionNames("localhost_/xnat_", keys);
        Transcoder java = new JavaSerializationTranscoderFactory()
                .create(new TranscoderContext(getClass().getClassLoader(), null, false));
        byte[] payload = java.encode(new SessionContent(Payload.create(42), null));
        long now = System.currentTimeMillis();
        frame = new SessionFrame(java.id(), now, now, 1800, "FORM", payload).encode();
        sealed = cipher.seal(frame, OWNER);
    }

    @Benchmark
    public byte[] seal() {
        return cipher.seal(frame, OWNER);
    }

    @Benchmark
    public byte[] open() throws FrameCipher.NotAuthenticException {
        return cipher.open(sealed, OWNER);
    }

    @Benchmark
    public String keyName() {
        return names.of("validity:", id);
    }
}

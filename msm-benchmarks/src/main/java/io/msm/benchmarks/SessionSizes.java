package io.msm.benchmarks;

import io.msm.core.TranscoderContext;
import io.msm.serializers.JavaSerializationTranscoderFactory;
import io.msm.serializers.kryo.KryoTranscoderFactory;

/** Prints the stored size of {@link RealisticSession} for each transcoder. */
public final class SessionSizes {
    private SessionSizes() {
    }

    public static void main(String[] args) {
        TranscoderContext context = new TranscoderContext(SessionSizes.class.getClassLoader(), null, false);
        int java = new JavaSerializationTranscoderFactory().create(context).encode(RealisticSession.create()).length;
        int kryo = new KryoTranscoderFactory().create(context).encode(RealisticSession.create()).length;
        System.out.printf("session bytes: java %d, kryo %d, kryo/java %.2f%n", java, kryo, (double) kryo / java);
    }
}

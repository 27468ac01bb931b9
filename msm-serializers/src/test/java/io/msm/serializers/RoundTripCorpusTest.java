package io.msm.serializers;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.Transcoder;
import io.msm.core.TranscoderFactory;

/** Every case of the {@link Corpus} comes back equal from both transcoders, with nothing logged. */
class RoundTripCorpusTest {
    static Stream<Arguments> corpus() {
        return Transcoding.both().flatMap(f -> Corpus.cases().stream()
                .map(c -> Arguments.of(Transcoding.name(f), c, f)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("corpus")
    void comesBackEqual(String transcoder, Corpus.Case c, TranscoderFactory factory) throws Exception {
        Transcoder t = Transcoding.create(factory);
        Object value = c.value().get();
        c.check().accept(value, Transcoding.roundTrip(t, value));
    }
}

package io.msm.serializers;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.TranscoderFactory;

/**
 * Every case of the {@link Corpus} comes back equal from both transcoders, with nothing logged, or,
 * where a transcoder cannot store it, is left out with one line naming it.
 */
class RoundTripCorpusTest {
    static Stream<Arguments> corpus() {
        return Transcoding.both().flatMap(f -> Corpus.cases().stream()
                .map(c -> Arguments.of(Transcoding.name(f), c, f)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("corpus")
    void comesBackEqual(String transcoder, Corpus.Case c, TranscoderFactory factory) throws Exception {
        c.verify(factory);
    }
}

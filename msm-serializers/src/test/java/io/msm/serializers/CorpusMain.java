package io.msm.serializers;

import java.util.ArrayList;
import java.util.List;

import io.msm.core.TranscoderFactory;

/**
 * Runs the round-trip corpus against both transcoders in a JVM of its own, so that
 * {@link NewestJdkCorpusTest} can run it on another JDK. Exits 0 when every case passed.
 */
public final class CorpusMain {
    private CorpusMain() {
    }

    public static void main(String[] args) {
        List<String> failures = new ArrayList<>();
        int count = 0;
        for (TranscoderFactory f : Transcoding.both().toList()) {
            for (Corpus.Case c : Corpus.cases()) {
                count++;
                try {
                    c.verify(f);
                } catch (Throwable e) {
                    failures.add(Transcoding.name(f) + ": " + c.name() + ": " + e);
                }
            }
        }
        System.out.println("java.version=" + System.getProperty("java.version"));
        System.out.println("cases=" + count);
        failures.forEach(f -> System.out.println("FAILED " + f));
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}

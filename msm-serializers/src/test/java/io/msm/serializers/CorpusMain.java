package io.msm.serializers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.msm.core.SessionContent;
import io.msm.core.TranscoderException;
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
        for (TranscoderFactory f : Transcoding.both().toList()) {
            String refused = depthLimitRefuses(f);
            if (refused != null) {
                failures.add(Transcoding.name(f) + ": maxdepth=30 let a 60-deep graph through: " + refused);
            }
        }
        System.out.println("java.version=" + System.getProperty("java.version"));
        System.out.println("cases=" + count);
        failures.forEach(f -> System.out.println("FAILED " + f));
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    /** The limits reach the JDK's own stream filter by method handles; this JDK must honour them too. */
    private static String depthLimitRefuses(TranscoderFactory f) {
        List<Object> deep = Transcoding.nestedLists(60);
        ClassLoader loader = CorpusMain.class.getClassLoader();
        byte[] bytes = Transcoding.create(f, loader, null, false).encode(new SessionContent(Map.of("v", deep), null));
        try {
            Transcoding.create(f, loader, "maxdepth=30", false).decode(bytes);
            return "decoded";
        } catch (TranscoderException e) {
            return e.getMessage().contains("maxdepth=30") ? null : e.getMessage();
        }
    }
}

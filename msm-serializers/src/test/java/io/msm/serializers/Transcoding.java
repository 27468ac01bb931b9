package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderException;
import io.msm.core.TranscoderFactory;
import io.msm.serializers.kryo.KryoTranscoderFactory;

/** The one parameter source of transcoders, and round trips with the warnings they logged. */
public final class Transcoding {
    private Transcoding() {
    }

    /** Every transcoder msm ships; each test that says "both" runs against all of them. */
    public static Stream<TranscoderFactory> both() {
        return Stream.of(new JavaSerializationTranscoderFactory(), new KryoTranscoderFactory());
    }

    public static String name(TranscoderFactory f) {
        return f instanceof KryoTranscoderFactory ? "Kryo" : "Java";
    }

    public static Transcoder create(TranscoderFactory f, ClassLoader loader, String serialFilter, boolean reportOnly) {
        return f.create(new TranscoderContext(loader, serialFilter, reportOnly));
    }

    public static Transcoder create(TranscoderFactory f) {
        return create(f, Transcoding.class.getClassLoader(), null, false);
    }

    /** Encodes one attribute and decodes it; fails if any attribute was dropped or fell back silently. */
    public static Object roundTrip(Transcoder t, Object value) throws TranscoderException {
        try (Warnings warnings = Warnings.capture()) {
            SessionContent back = t.decode(t.encode(new SessionContent(Map.of("v", value), null)));
            assertEquals(List.of(), warnings.messages(), "no attribute left out, dropped or written another way");
            return back.attributes().get("v");
        }
    }

    /** WARN and worse lines of msm's serializers while open. */
    public static final class Warnings extends Handler implements AutoCloseable {
        private static final Logger LOG = Logger.getLogger("io.msm.serializers");
        private final List<String> messages = new ArrayList<>();

        public static Warnings capture() {
            Warnings w = new Warnings();
            LOG.addHandler(w);
            return w;
        }

        @Override
        public synchronized void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                Object[] params = r.getParameters();
                String text = r.getMessage();
                if (params != null) {
                    for (Object p : params) {
                        text = text.replaceFirst("\\{\\}", java.util.regex.Matcher.quoteReplacement(String.valueOf(p)));
                    }
                }
                messages.add(text);
            }
        }

        public synchronized List<String> messages() {
            return new ArrayList<>(messages);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            LOG.removeHandler(this);
        }
    }
}

package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
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

    /** @return a list holding a list holding … {@code depth} levels down: a graph deeper than a small maxdepth */
    public static List<Object> nestedLists(int depth) {
        List<Object> top = new ArrayList<>();
        List<Object> current = top;
        for (int i = 0; i < depth; i++) {
            List<Object> next = new ArrayList<>();
            current.add(next);
            current = next;
        }
        return top;
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

    /**
     * Encodes one attribute that the transcoder cannot store and decodes the rest: it must be left
     * out, with one WARN line that names the attribute and the value's class.
     */
    public static void leftOut(Transcoder t, Object value) throws TranscoderException {
        try (Warnings warnings = Warnings.capture()) {
            Map<String, Object> attributes = new LinkedHashMap<>();
            attributes.put("kept", "yes");
            attributes.put("v", value);
            SessionContent back = t.decode(t.encode(new SessionContent(attributes, null)));
            assertEquals(Map.of("kept", "yes"), back.attributes(), "the attribute is left out, the rest kept");
            List<String> lines = warnings.messages();
            assertEquals(1, lines.size(), "one line: " + lines);
            assertTrue(lines.get(0).contains("'v'") && lines.get(0).contains(value.getClass().getName()),
                    "names the attribute and its class: " + lines.get(0));
        }
    }

    /** WARN and worse lines of a logger (msm's serializers unless named) while open. */
    public static final class Warnings extends Handler implements AutoCloseable {
        private final Logger logger;
        private final List<LogRecord> records = new ArrayList<>();

        private Warnings(Logger logger) {
            this.logger = logger;
        }

        public static Warnings capture() {
            return capture("io.msm.serializers");
        }

        public static Warnings capture(String loggerName) {
            Warnings w = new Warnings(Logger.getLogger(loggerName));
            w.logger.addHandler(w);
            return w;
        }

        @Override
        public synchronized void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                records.add(r);
            }
        }

        /** @return each line with its {} placeholders filled in */
        public synchronized List<String> messages() {
            List<String> messages = new ArrayList<>();
            for (LogRecord r : records) {
                String text = r.getMessage();
                if (r.getParameters() != null) {
                    for (Object p : r.getParameters()) {
                        text = text.replaceFirst("\\{\\}", Matcher.quoteReplacement(String.valueOf(p)));
                    }
                }
                messages.add(text);
            }
            return messages;
        }

        /** @return the messages of every exception logged, with their causes, one a line */
        public synchronized String thrown() {
            StringBuilder sb = new StringBuilder();
            for (LogRecord r : records) {
                for (Throwable t = r.getThrown(); t != null; t = t.getCause()) {
                    sb.append(t.getMessage()).append('\n');
                }
            }
            return sb.toString();
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }
}

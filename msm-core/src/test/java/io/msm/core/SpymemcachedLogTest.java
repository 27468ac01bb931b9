package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

/** Every form in which spymemcached prints a key reaches the log without the session id in it. */
class SpymemcachedLogTest {
    private static final String ID = "9F3C2B7A11D04E6F8A2B3C4D5E6F7A8B-n1.tomcat1";
    private static final String KEY = "localhost_/xnat_" + ID;

    @Test
    void sessionIdsInSpymemcachedMessagesAreBlankedOut() {
        String message = "Closing, and reopening {QA sa=/127.0.0.1:11211, #Rops=1, topRop=Cmd: 0 Opaque: 17 Key: "
                + KEY + ", topWop=null}";
        String masked = SpymemcachedLog.mask(message);
        assertFalse(masked.contains(ID), masked);
        assertFalse(masked.contains("9F3C2B7A"), masked);
        assertEquals("get failed: key=…", SpymemcachedLog.mask("get failed: key=" + KEY));
    }

    @Test
    void everyFormOfAKeyIsBlankedOut() {
        String other = "localhost_/xnat_backup:0123456789ABCDEF0123456789ABCDEF-n2";
        List<String> forms = List.of(
                "Discarding partially completed op: Cmd: 0 Opaque: 3 Keys: " + KEY + " " + other,
                "Cmd: get Keys: [" + KEY + ", " + other + "] Exp: 0",
                "Keys=" + KEY,
                "net.spy.memcached.internal.CheckedOperationTimeoutException: Timed out waiting for operation"
                        + " - failing node: /127.0.0.1:11211 [" + KEY + "]",
                "java.lang.IllegalArgumentException: Key is too long (maxlen = 250): " + KEY,
                "part " + KEY + ":part:00000000000000ab:3 missing",
                // 2.3.2's ids of a single host:port name no node; spymemcached's lines without "key:"
                "No callbacks for key 9F3C2B7A11D04E6F8A2B3C4D5E6F7A8B",
                "Operation on localhost_/xnat_0123456789ABCDEF0123456789ABCDEF.tomcat1 timed out");
        for (String form : forms) {
            String masked = SpymemcachedLog.mask(form);
            assertFalse(masked.contains("9F3C2B7A11D04E6F"), masked);
            assertFalse(masked.contains("0123456789ABCDEF"), masked);
        }
    }

    @Test
    void aDebugLineWithAnExceptionCarriesItsStackAsMaskedText() {
        List<LogRecord> records = logged("io.msm.test.spy", Level.FINE, log -> log.log(
                io.msm.shaded.net.spy.memcached.compat.log.Level.DEBUG, "op failed",
                new IllegalStateException("timed out on " + KEY, new RuntimeException("key=" + KEY))));

        assertEquals(1, records.size());
        LogRecord r = records.get(0);
        assertEquals(null, r.getThrown(), "no exception object, whose message holds the key, reaches the log");
        assertTrue(r.getMessage().contains("IllegalStateException"), r.getMessage());
        assertFalse(r.getMessage().contains("9F3C2B7A11D04E6F"), r.getMessage());
    }

    @Test
    void withDebugOffOnlyTheClientsWarningsAndErrorsAreLoggedAndMasked() {
        List<LogRecord> records = logged("io.msm.test.spy.quiet", Level.INFO, log -> {
            log.debug("Setting interested opts to 1 for key=" + KEY);
            log.info("Added {QA sa=/127.0.0.1:11211} to connect queue");
            log.warn("SASL authentication failed for key=" + KEY); // msm reports these itself: DEBUG
            log.warn("Operation timed out, key=" + KEY);
            log.error("Problem handling memcached IO on key=" + KEY);
        });

        assertEquals(2, records.size(), "the warning and the error, nothing below");
        assertTrue(records.get(0).getMessage().startsWith("Operation timed out, key=… ("), records.get(0).getMessage());
        assertTrue(records.get(1).getMessage().startsWith("Problem handling memcached IO on key=… ("),
                records.get(1).getMessage());
    }

    /**
     * A lost connection makes the client warn once for every operation that was in flight on it:
     * under load thousands of lines. One of each kind reaches the log in a minute.
     */
    @Test
    void theClientsWarningsPerOperationInFlightAreLoggedOnceAMinutePerKind() {
        List<LogRecord> records = logged("io.msm.test.spy.burst", Level.INFO, log -> {
            for (int i = 0; i < 1000; i++) {
                log.warn("Discarding partially completed op: Cmd: 0 Opaque: " + i + " Keys: " + KEY);
            }
            log.warn("Operation timed out, key=" + KEY);
        });

        assertEquals(2, records.size(), "one line of each kind: " + records.size());
        assertTrue(records.get(0).getMessage().startsWith("Discarding partially completed op: Cmd: 0 Opaque: 0"),
                records.get(0).getMessage());
        assertTrue(records.get(0).getMessage().contains("at most once a minute"), records.get(0).getMessage());
        assertTrue(records.get(1).getMessage().startsWith("Operation timed out"), records.get(1).getMessage());
    }

    /** What reaches java.util.logging, at {@code level}, while {@code lines} logs through a SpymemcachedLog. */
    private static List<LogRecord> logged(String name, Level level, Consumer<SpymemcachedLog> lines) {
        Logger jul = Logger.getLogger(name);
        List<LogRecord> records = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Level before = jul.getLevel();
        jul.setLevel(level);
        jul.addHandler(handler);
        try {
            lines.accept(new SpymemcachedLog(name));
        } finally {
            jul.removeHandler(handler);
            jul.setLevel(before);
        }
        return records;
    }
}

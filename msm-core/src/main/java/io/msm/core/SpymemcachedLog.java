package io.msm.core;

import java.time.Clock;
import java.util.regex.Pattern;

import io.msm.shaded.net.spy.memcached.compat.log.AbstractLogger;
import io.msm.shaded.net.spy.memcached.compat.log.Level;

import org.slf4j.Logger;

/**
 * spymemcached's log, passed on to slf4j with every memcached key blanked out: our keys hold
 * session ids, and a log reader must not be able to take over a session. Blanked are a key after
 * "key:" or "key=", the keys after "Keys:" (bulk gets), and anything shaped like a session id,
 * wherever it stands, also in an exception's message and its causes. Stack traces go to DEBUG only,
 * as masked text, since msm logs each node event itself in plain words.
 */
public final class SpymemcachedLog extends AbstractLogger {
    private static final Pattern KEY = Pattern.compile("(?i)(key[:=]\\s*)\\S+");
    /** A bulk get's keys: a bracketed list, or words up to the next field or the end. */
    private static final Pattern KEYS = Pattern.compile("(?i)(keys[:=]\\s*)(\\[[^\\]]*\\]|[^,}\\]\\n]*)");
    /**
     * A session id's shape: a long hexadecimal random part, then its node and route where it has them
     * (2.3.2's ids of a single {@code host:port} have no node, ids of the plain Tomcat way no route).
     */
    private static final Pattern ID = Pattern.compile("[0-9A-Fa-f]{16,}(-[A-Za-z0-9_]+)?(\\.[A-Za-z0-9_.-]+)?");
    private final Logger log;
    /**
     * The client warns once per operation in flight when a connection is lost ("Discarding partially
     * completed op"), thousands of lines under load: each kind once a minute, the rest at DEBUG.
     */
    private final OncePerMinute logLimit = new OncePerMinute(Clock.systemUTC());

    public SpymemcachedLog(String name) {
        super(name);
        this.log = Logs.get(name);
    }

    static String mask(String text) {
        if (text == null) {
            return null;
        }
        String keys = KEYS.matcher(text).replaceAll("$1…");
        return ID.matcher(KEY.matcher(keys).replaceAll("$1…")).replaceAll("…");
    }

    /** An exception with its causes and stack, as masked text: never the exception itself. */
    static String masked(Throwable e) {
        java.io.StringWriter trace = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(trace));
        return mask(trace.toString());
    }

    /** A line's kind: its words before the first colon, numbers left out (opaque ids, counts, ports). */
    static String kind(String text) {
        int colon = text.indexOf(':');
        String head = colon > 0 ? text.substring(0, colon) : text;
        head = head.length() > 80 ? head.substring(0, 80) : head;
        return head.replaceAll("[0-9]+", "#");
    }

    @Override
    public boolean isTraceEnabled() {
        return log.isTraceEnabled();
    }

    @Override
    public boolean isDebugEnabled() {
        return log.isDebugEnabled();
    }

    @Override
    public boolean isInfoEnabled() {
        return log.isInfoEnabled();
    }

    /**
     * The client's lines about authentication and reconnects repeat for every operation and
     * reconnect, without naming the node: msm logs each node event itself, rate-limited, and asks a
     * node that refuses us for the cause ({@link ConnectionCheck}). These go to DEBUG.
     */
    private static final Pattern REPORTED_BY_MSM = Pattern.compile(
            "(?i)auth failure|authentication|\\bSASL\\b|Closing, and reopening|\\b(TLS|SSL)\\b|handshake");

    @Override
    public void log(Level level, Object message, Throwable e) {
        if (level != Level.WARN && level != Level.ERROR && level != Level.FATAL && !log.isDebugEnabled()) {
            // The client logs a DEBUG line per operation without asking first: masking it is a regex
            // per operation on the IO thread, for a line nobody reads. Below WARN all goes to DEBUG.
            return;
        }
        String text = mask(String.valueOf(message)) + (e == null ? "" : " (" + mask(e.toString()) + ")");
        // The client's INFO lines (queues, reconnects) repeat per node and attempt; msm logs node events itself.
        if (level == Level.INFO || REPORTED_BY_MSM.matcher(text).find()) {
            level = Level.DEBUG;
        } else if (!logLimit.allow(kind(text))) {
            level = Level.DEBUG;
        } else {
            text += " (lines of this kind are logged at most once a minute; the others at DEBUG)";
        }
        switch (level) {
            case TRACE:
            case DEBUG:
                if (log.isDebugEnabled()) {
                    log.debug(e == null ? text : text + "\n" + masked(e));
                }
                break;
            case INFO:
                log.info(text);
                break;
            case WARN:
                log.warn(text);
                break;
            default:
                log.error(text);
        }
    }
}

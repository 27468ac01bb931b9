package io.msm.core;

import java.util.regex.Pattern;

import net.spy.memcached.compat.log.AbstractLogger;
import net.spy.memcached.compat.log.Level;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * spymemcached's log, passed on to slf4j with every memcached key blanked out: our keys hold
 * session ids, and a log reader must not be able to take over a session. Its stack traces go to
 * DEBUG only, since msm logs each node event itself in plain words.
 */
public final class SpymemcachedLog extends AbstractLogger {
    private static final Pattern KEY = Pattern.compile("(?i)(key[:=]\\s*)\\S+");
    private final Logger log;

    public SpymemcachedLog(String name) {
        super(name);
        this.log = LoggerFactory.getLogger(name);
    }

    static String mask(String text) {
        return text == null ? null : KEY.matcher(text).replaceAll("$1…");
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

    @Override
    public void log(Level level, Object message, Throwable e) {
        String text = mask(String.valueOf(message)) + (e == null ? "" : " (" + mask(e.toString()) + ")");
        switch (level) {
            case TRACE:
            case DEBUG:
                if (log.isDebugEnabled()) {
                    log.debug(text, e);
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

package io.msm.tomcat.it;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/** What the loggers under one name printed while the capture was open: the lines an operator reads. */
final class LogCapture extends Handler implements AutoCloseable {
    private final Logger logger;
    private final List<LogRecord> records = new ArrayList<>();

    LogCapture(String loggerName) {
        this.logger = Logger.getLogger(loggerName);
        setLevel(Level.ALL);
        logger.addHandler(this);
    }

    @Override
    public void publish(LogRecord record) {
        synchronized (records) {
            records.add(record);
        }
    }

    /** @return "LEVEL message" of every record the filter accepts, the parameters filled in */
    List<String> lines(Predicate<LogRecord> filter) {
        synchronized (records) {
            return records.stream().filter(filter).map(r -> r.getLevel() + " " + format(r)).collect(Collectors.toList());
        }
    }

    List<String> lines() {
        return lines(r -> true);
    }

    private static String format(LogRecord r) {
        String text = String.valueOf(r.getMessage());
        Object[] params = r.getParameters();
        if (params != null) {
            for (int i = 0; i < params.length; i++) {
                text = text.replace("{" + i + "}", String.valueOf(params[i]));
            }
        }
        return r.getThrown() == null ? text : text + " " + r.getThrown();
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}

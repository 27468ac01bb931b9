package io.msm.core;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * msm's loggers, and text from outside made fit for their lines ({@link #oneLine}). The loggers are
 * made while the thread's context class loader is msm's own. Tomcat's logging
 * (JULI) files each java.util.logging logger under the context class loader of the thread that
 * first asks for it, and closes those of a webapp when the webapp stops. msm's classes sit in
 * tomcat/lib and outlive every webapp: a logger filed under the webapp that happened to start
 * first went silent at that webapp's first reload or redeploy, and stayed silent.
 */
public final class Logs {
    private Logs() {
    }

    public static Logger get(Class<?> type) {
        return get(type.getName(), type.getClassLoader());
    }

    /** For a name that is not a class of msm's, such as the memcached client's loggers. */
    public static Logger get(String name) {
        return get(name, Logs.class.getClassLoader());
    }

    private static Logger get(String name, ClassLoader own) {
        return withContextLoader(own, () -> LoggerFactory.getLogger(name));
    }

    /**
     * @return text that came from outside (a request, memcached's bytes) fit for one log line: control
     *     characters as '?', at most {@code max} characters and then "…"
     */
    public static String oneLine(String text, int max) {
        String shown = text.length() > max ? text.substring(0, max) + "…" : text;
        return shown.replaceAll("\\p{Cntrl}", "?");
    }

    /**
     * Makes a logger, of any logging API (the adapters use Tomcat's own), while the thread's context
     * class loader is {@code own}, for the reason this class gives.
     */
    public static <T> T withContextLoader(ClassLoader own, java.util.function.Supplier<T> make) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(own);
        try {
            return make.get();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }
}

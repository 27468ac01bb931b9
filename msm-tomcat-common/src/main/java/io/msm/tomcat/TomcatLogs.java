package io.msm.tomcat;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

/**
 * Tomcat's log for a class of msm's, made while the thread's context class loader is msm's own,
 * for the reason {@link io.msm.core.Logs} gives: a log filed under a webapp goes silent when that
 * webapp is reloaded, while msm's classes in tomcat/lib go on.
 */
final class TomcatLogs {
    private TomcatLogs() {
    }

    static Log get(Class<?> type) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(type.getClassLoader());
        try {
            return LogFactory.getLog(type);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }
}

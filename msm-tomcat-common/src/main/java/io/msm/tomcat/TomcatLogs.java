package io.msm.tomcat;

import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

import io.msm.core.Logs;

/**
 * Tomcat's log for a class of msm's, made while the thread's context class loader is msm's own,
 * for the reason {@link Logs} gives: a log filed under a webapp goes silent when that
 * webapp is reloaded, while msm's classes in tomcat/lib go on.
 */
final class TomcatLogs {
    private TomcatLogs() {
    }

    static Log get(Class<?> type) {
        return Logs.withContextLoader(type.getClassLoader(), () -> LogFactory.getLog(type));
    }
}

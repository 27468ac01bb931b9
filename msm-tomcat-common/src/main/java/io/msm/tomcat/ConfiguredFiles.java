package io.msm.tomcat;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Engine;

import io.msm.core.Settings;

/**
 * The attributes that name files. A relative path means one in CATALINA_BASE, as in Tomcat's
 * server.xml: against the working directory it would find the file only where Tomcat is started
 * from there (not under systemd). Else the working directory, where an embedded Tomcat's base is a
 * temporary one.
 */
final class ConfiguredFiles {
    private static final String[] FILE_ATTRIBUTES = {Settings.ENCRYPTION_KEYS, Settings.TLS_TRUST_STORE_FILE,
        Settings.TLS_KEY_STORE_FILE};

    private ConfiguredFiles() {
    }

    /** @return the attributes, with each relative file path made absolute */
    static Map<String, String> resolved(Map<String, String> written, Context context) {
        Map<String, String> resolved = new LinkedHashMap<>(written);
        File base = catalinaBase(context);
        for (String attribute : FILE_ATTRIBUTES) {
            String path = resolved.get(attribute) == null ? "" : resolved.get(attribute).trim();
            File asWritten = new File(path);
            if (base != null && !path.isEmpty() && !path.startsWith("${") && !asWritten.isAbsolute()) {
                File inBase = new File(base, path);
                // The start's error names the file in CATALINA_BASE when neither has it. Absolute either way,
                // so that the start's INFO line names the file read.
                boolean onlyInWorkingDirectory = !inBase.exists() && asWritten.exists();
                resolved.put(attribute, onlyInWorkingDirectory ? asWritten.getAbsolutePath() : inBase.getPath());
            }
        }
        return resolved;
    }

    /** @return this Tomcat's CATALINA_BASE; its Server's where the line has it (embedded Tomcats differ), or null */
    private static File catalinaBase(Context context) {
        try {
            Container engine = context.getParent() == null ? null : context.getParent().getParent();
            if (engine instanceof Engine && ((Engine) engine).getService() != null) {
                Object server = ((Engine) engine).getService().getServer();
                if (server != null) {
                    Object base = server.getClass().getMethod("getCatalinaBase").invoke(server); // Tomcat 8 and later
                    if (base instanceof File) {
                        return (File) base;
                    }
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // Tomcat 7: the system property below
        }
        String base = System.getProperty("catalina.base");
        return base == null ? null : new File(base);
    }
}

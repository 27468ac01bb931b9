package io.msm.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.apache.catalina.Manager;

/**
 * memcached-session-manager 2.3.2's own manager. msm's jar carries a class of the same name (an alias for
 * context files being migrated), which comes first on this classpath and refuses to run beside 2.3.2's
 * jars; so 2.3.2's classes are loaded from its own two jars before anything else, and its webapps get
 * this loader as their parent, so that they see the same classes (its transcoder factory).
 */
final class Msm2Manager {
    private static final String MANAGER = "de.javakaffee.web.msm.MemcachedBackupSessionManager";
    private static ClassLoader loader;

    private Msm2Manager() {
    }

    static Manager create() {
        try {
            return (Manager) loader().loadClass(MANAGER).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("memcached-session-manager 2.3.2 cannot be made: " + e, e);
        }
    }

    static synchronized ClassLoader loader() {
        if (loader == null) {
            ClassLoader parent = Msm2Manager.class.getClassLoader();
            List<URL> jars = new ArrayList<>();
            jars.add(jarOf(parent, "de/javakaffee/web/msm/MemcachedSessionService.class", "memcached-session-manager-2"));
            jars.add(jarOf(parent, MANAGER.replace('.', '/') + ".class", "memcached-session-manager-tc9-"));
            loader = new URLClassLoader(jars.toArray(new URL[0]), parent) {
                @Override
                protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                    if (!name.startsWith("de.javakaffee.") || findResource(name.replace('.', '/') + ".class") == null) {
                        return super.loadClass(name, resolve);
                    }
                    synchronized (getClassLoadingLock(name)) {
                        Class<?> c = findLoadedClass(name);
                        if (c == null) {
                            c = findClass(name); // 2.3.2's own, never msm's alias
                        }
                        if (resolve) {
                            resolveClass(c);
                        }
                        return c;
                    }
                }
            };
        }
        return loader;
    }

    /** @return the jar holding {@code resource} whose path contains {@code jarName} */
    private static URL jarOf(ClassLoader from, String resource, String jarName) {
        try {
            for (URL url : Collections.list(from.getResources(resource))) {
                String s = url.toString();
                if (s.startsWith("jar:") && s.contains(jarName)) {
                    return new URL(s.substring("jar:".length(), s.indexOf("!/")));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no " + jarName + "*.jar holding " + resource + " on the classpath");
    }
}

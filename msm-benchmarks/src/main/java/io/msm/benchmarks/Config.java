package io.msm.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.apache.catalina.Manager;
import org.apache.catalina.session.StandardManager;

import io.msm.tomcat.MemcachedSessionManager;

/** One session manager with its {@code <Manager>} attributes, served under its own context path. */
final class Config {
    static final String BASELINE = "standard";
    private static final String KRYO = "io.msm.serializers.kryo.KryoTranscoderFactory";

    /** Short name: the context path and the key for {@code -Dbench.configs}. */
    final String key;
    final String label;
    /** True for msm 2.3.2: its errors are reported as figures, they do not void the run. */
    final boolean reference;
    private final Supplier<Manager> manager;
    private final Map<String, String> attributes;

    private Config(String key, String label, boolean reference, Supplier<Manager> manager,
            Map<String, String> attributes) {
        this.key = key;
        this.label = label;
        this.reference = reference;
        this.manager = manager;
        this.attributes = attributes;
    }

    /** @param memcachedNodes {@code n1:127.0.0.1:port,n2:127.0.0.1:port} */
    static List<Config> all(String memcachedNodes) {
        List<Config> all = new ArrayList<>();
        all.add(new Config(BASELINE, "StandardManager", false, Config::standardManager, Map.of()));
        for (Mode mode : Mode.values()) {
            all.add(new Config("msm-" + mode.key, "msm " + mode.label, false, MemcachedSessionManager::new,
                    withExtras(mode.attributes(memcachedNodes, null))));
        }
        for (Mode mode : Mode.values()) {
            Map<String, String> attributes = new LinkedHashMap<>(mode.attributes(memcachedNodes, null));
            attributes.put("encryptionKeys", KeyFile.path());
            attributes = withExtras(attributes);
            all.add(new Config("enc-" + mode.key, "msm encrypted " + mode.label, false, MemcachedSessionManager::new,
                    attributes));
        }
        if (kryoAvailable()) {
            for (Mode mode : Mode.values()) {
                all.add(new Config("kryo-" + mode.key, "msm Kryo " + mode.label, false, MemcachedSessionManager::new,
                        withExtras(mode.attributes(memcachedNodes, KRYO))));
            }
        }
        for (Mode mode : Mode.values()) {
            all.add(new Config("old-" + mode.key, "msm 2.3.2 " + mode.label, true, Msm2Manager::create,
                    mode.attributes(memcachedNodes, null)));
        }
        return all;
    }

    /**
     * Adds {@code -Dbench.managerAttributes=name=value;name=value} to msm's configurations (not
     * 2.3.2's), to measure a setting against the defaults without editing the code.
     */
    private static Map<String, String> withExtras(Map<String, String> attributes) {
        String extras = System.getProperty("bench.managerAttributes", "");
        if (extras.isBlank()) {
            return attributes;
        }
        Map<String, String> a = new LinkedHashMap<>(attributes);
        for (String pair : extras.split(";")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("bench.managerAttributes: '" + pair + "' is not name=value");
            }
            a.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return a;
    }

    /** @param keys comma-separated keys, or null / "all" for every configuration */
    static List<Config> select(String memcachedNodes, String keys) {
        List<Config> all = all(memcachedNodes);
        if (keys == null || keys.isBlank() || keys.equals("all")) {
            return all;
        }
        List<Config> chosen = new ArrayList<>();
        chosen.add(all.get(0)); // every ratio needs the baseline
        for (String key : keys.split(",")) {
            Config c = all.stream().filter(x -> x.key.equals(key.trim())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("bench.configs: no configuration '" + key
                            + "'; choose from " + all.stream().map(x -> x.key).toList()));
            if (!chosen.contains(c)) {
                chosen.add(c);
            }
        }
        return chosen;
    }

    Manager newManager() {
        return manager.get();
    }

    Map<String, String> attributes() {
        return attributes;
    }

    String path() {
        return "/" + key;
    }

    boolean isBaseline() {
        return key.equals(BASELINE);
    }

    private static Manager standardManager() {
        StandardManager m = new StandardManager();
        m.setPathname(null); // no SESSIONS.ser at stop
        return m;
    }

    private static boolean kryoAvailable() {
        try {
            Class.forName(KRYO);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** One key file for the encrypted configurations, made at the first use and deleted at exit. */
    private static final class KeyFile {
        private static String path;

        static synchronized String path() {
            if (path == null) {
                try {
                    java.nio.file.Path file = java.nio.file.Files.createTempFile("msm-bench-keys", ".txt");
                    file.toFile().deleteOnExit();
                    byte[] key = new byte[32];
                    new java.security.SecureRandom().nextBytes(key);
                    java.nio.file.Files.write(file, ("k1:" + java.util.Base64.getEncoder().encodeToString(key) + "\n")
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    java.nio.file.Files.setPosixFilePermissions(file,
                            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
                    path = file.toString();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return path;
        }
    }

    /** The four ways to run a memcached session manager that the benchmark compares. */
    enum Mode {
        STICKY_ASYNC("sticky-async", "sticky async"),
        STICKY_SYNC("sticky-sync", "sticky sync"),
        NON_STICKY_NONE("nonsticky-none", "non-sticky none"),
        NON_STICKY_ALL("nonsticky-all", "non-sticky all");

        final String key;
        final String label;

        Mode(String key, String label) {
            this.key = key;
            this.label = label;
        }

        Map<String, String> attributes(String memcachedNodes, String transcoderFactory) {
            Map<String, String> a = new LinkedHashMap<>();
            a.put("memcachedNodes", memcachedNodes);
            switch (this) {
                case STICKY_SYNC:
                    a.put("sessionBackupAsync", "false");
                    break;
                case NON_STICKY_NONE:
                    a.put("sticky", "false");
                    a.put("lockingMode", "none");
                    break;
                case NON_STICKY_ALL:
                    a.put("sticky", "false");
                    a.put("lockingMode", "all");
                    break;
                default:
                    break;
            }
            if (transcoderFactory != null) {
                a.put("transcoderFactoryClass", transcoderFactory);
            }
            return a;
        }
    }
}

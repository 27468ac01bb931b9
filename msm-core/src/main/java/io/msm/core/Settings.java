package io.msm.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Every {@code <Manager>} attribute, its default and its validation, in one place. Adapters keep
 * the raw strings the operator wrote and hand them here at start; {@link #parse} either returns an
 * immutable, typed configuration or throws one exception listing every bad attribute.
 */
public final class Settings {
    public static final String ENABLED = "enabled";
    public static final String MEMCACHED_NODES = "memcachedNodes";
    public static final String FAILOVER_NODES = "failoverNodes";
    public static final String STICKY = "sticky";
    public static final String LOCKING_MODE = "lockingMode";
    public static final String LOCK_EXPIRATION = "lockExpiration";
    public static final String LOCK_WAIT_TIMEOUT = "lockWaitTimeout";
    public static final String REQUEST_URI_IGNORE_PATTERN = "requestUriIgnorePattern";
    public static final String SESSION_BACKUP_ASYNC = "sessionBackupAsync";
    public static final String SESSION_BACKUP_TIMEOUT = "sessionBackupTimeout";
    public static final String OPERATION_TIMEOUT = "operationTimeout";
    public static final String BACKUP_THREAD_COUNT = "backupThreadCount";
    public static final String BACKUP_QUEUE_SIZE = "backupQueueSize";
    public static final String STORAGE_KEY_PREFIX = "storageKeyPrefix";
    public static final String TRANSCODER_FACTORY_CLASS = "transcoderFactoryClass";
    public static final String READ_TRANSCODER_FACTORY_CLASSES = "readTranscoderFactoryClasses";
    public static final String ENABLE_STATISTICS = "enableStatistics";
    public static final String MEMCACHED_PROTOCOL = "memcachedProtocol";
    public static final String USERNAME = "username";
    public static final String PASSWORD = "password";
    public static final String SERIAL_FILTER = "serialFilter";
    public static final String SERIAL_FILTER_MODE = "serialFilterMode";
    public static final String TLS = "tls";
    public static final String TLS_TRUST_STORE_FILE = "tlsTrustStoreFile";
    public static final String TLS_TRUST_STORE_PASSWORD = "tlsTrustStorePassword";
    public static final String TLS_KEY_STORE_FILE = "tlsKeyStoreFile";
    public static final String TLS_KEY_STORE_PASSWORD = "tlsKeyStorePassword";
    public static final String TLS_HOSTNAME_VERIFICATION = "tlsHostnameVerification";
    public static final String ENCRYPTION_KEYS = "encryptionKeys";
    public static final String READ_UNENCRYPTED_SESSIONS = "readUnencryptedSessions";
    public static final String SESSION_ATTRIBUTE_FILTER = "sessionAttributeFilter";
    public static final String COMPATIBILITY = "compatibility";
    /** memcached-session-manager 2.3.2's options for its Kryo and Javolution serializers; accepted, without effect. */
    public static final String COPY_COLLECTIONS_FOR_SERIALIZATION = "copyCollectionsForSerialization";
    public static final String CUSTOM_CONVERTER = "customConverter";

    /** What {@code compatibility} asks: how this Tomcat shares sessions with memcached-session-manager 2.3.2. */
    public enum Compatibility {
        /** Sessions of msm only. */
        NONE,
        /** While 2.3.2 Tomcats still run: read their copies first, and write them beside msm's own. */
        MSM2,
        /** Once no 2.3.2 Tomcat runs: read the copies 2.3.2 left where msm has none, write msm's only. */
        MSM2_READ
    }

    public static final String DEFAULT_TRANSCODER_FACTORY = "io.msm.serializers.JavaSerializationTranscoderFactory";
    public static final String KRYO_TRANSCODER_FACTORY = "io.msm.serializers.kryo.KryoTranscoderFactory";
    public static final String DEFAULT_STORAGE_KEY_PREFIX = "host,context";
    /** memcached-session-manager 2.3.2's default: no prefix at all for a webapp without a version. */
    public static final String MSM2_DEFAULT_STORAGE_KEY_PREFIX = "webappVersion";

    private final boolean enabled;
    private final List<MemcachedNode> nodes;
    private final boolean sticky;
    private final LockingMode lockingMode;
    private final int lockExpirationSeconds;
    private final long lockWaitTimeoutMillis;
    private final Pattern requestUriIgnorePattern;
    private final boolean backupAsync;
    private final long backupTimeoutMillis;
    private final long operationTimeoutMillis;
    private final int backupThreadCount;
    private final int backupQueueSize;
    private final String storageKeyPrefix;
    private final String transcoderFactoryClass;
    /** Further transcoders whose frames are read, while a cluster switches; empty: the writer's frames only. */
    private final List<String> readTranscoderFactoryClasses;
    private final boolean statisticsEnabled;
    private final boolean binaryProtocol;
    private final String username;
    private final String password;
    private final String serialFilter;
    private final boolean serialFilterReportOnly;
    /** Null without {@code tls="true"}. */
    private final TlsContext tls;
    /** Null without {@code encryptionKeys}. */
    private final EncryptionKeys encryptionKeys;
    private final boolean readUnencryptedSessions;
    /** Null when every attribute is stored. */
    private final Pattern sessionAttributeFilter;
    private final Compatibility compatibility;
    /** The prefix spec 2.3.2's keys are built with: as written, or 2.3.2's default. */
    private final String msm2StorageKeyPrefix;
    /** Attributes written that have no effect with this configuration, each with the reason. */
    private final List<String> noEffect = new ArrayList<>();
    /** Settings that work but let something go wrong under failure; for one WARN at start. */
    private final List<String> risks = new ArrayList<>();

    /** A check of the settings that needs more than the attributes' text, such as creating the transcoder. */
    public interface Check {
        /** Adds one line per problem to {@code errors}, in the form every other attribute uses. */
        void run(Settings settings, List<String> errors);
    }

    /**
     * Two node ids for one memcached (a copy-paste slip): a session and its backup copy may then live on
     * the same server and go together, though the configuration reads as two nodes. Named, not refused:
     * one address may front several servers (a proxy).
     */
    private void sameServer(List<MemcachedNode> nodes) {
        Map<String, String> idsByAddress = new LinkedHashMap<>();
        for (MemcachedNode n : nodes) {
            String address = n.host() + ":" + n.port();
            String first = idsByAddress.putIfAbsent(address, n.id());
            if (first != null) {
                risks.add(MEMCACHED_NODES + ": nodes " + first + " and " + n.id() + " are the same memcached ("
                        + address + "); a session and its backup copy may both be on it and go with it. Give each"
                        + " node its own memcached, unless that address is a proxy in front of several");
            }
        }
    }

    private Settings(Parser p) {
        unknownAttributes(p);
        enabled = p.bool(ENABLED, true);
        if (enabled) { // msm off: the other attributes have no effect, and a dev setup may leave them unset
            unreplacedProperties(p);
        }
        nodes = enabled ? MemcachedNodes.parse(p.raw(MEMCACHED_NODES), p.raw(FAILOVER_NODES), p.errors)
                : Collections.<MemcachedNode>emptyList();
        sticky = p.bool(STICKY, true);
        sameServer(nodes);
        compatibility = compatibility(p.raw(COMPATIBILITY), p.errors);
        if (compatibility != Compatibility.NONE && !sticky) {
            p.errors.add("compatibility: '" + p.raw(COMPATIBILITY) + "' shares sticky sessions with"
                    + " memcached-session-manager 2.3.2 only; non-sticky sessions are not shared, so switch a"
                    + " non-sticky cluster in one step (users log in again), or run it sticky while it switches");
        }
        // memcached-session-manager 2.3.2 ignored these with sticky sessions; a context file written
        // for it must start here too, so they get the start's "no effect" WARN rather than an error.
        for (String nonStickyOnly : new String[] {LOCKING_MODE, LOCK_EXPIRATION, LOCK_WAIT_TIMEOUT}) {
            if (sticky && enabled && p.raw(nonStickyOnly) != null) {
                noEffect.add(nonStickyOnly + " (locks apply to non-sticky sessions only, sticky=\"false\")");
            }
        }
        // Not even read with sticky sessions: 2.3.2 never looked at them there.
        lockingMode = LockingMode.parse(sticky ? null : p.raw(LOCKING_MODE), p.errors);
        // memcached reads an expiry over 30 days as a point in time (1970 here): the lock would be gone at once.
        lockExpirationSeconds = sticky ? 30 : (int) p.positiveLong(LOCK_EXPIRATION, 30, "seconds", MAX_RELATIVE_EXPIRY,
                "memcached reads more than 30 days as a date");
        lockWaitTimeoutMillis = sticky ? 10_000 : p.positiveLong(LOCK_WAIT_TIMEOUT, 10_000, "milliseconds");
        requestUriIgnorePattern = p.pattern(REQUEST_URI_IGNORE_PATTERN);
        sessionAttributeFilter = p.pattern(SESSION_ATTRIBUTE_FILTER);
        backupAsync = p.bool(SESSION_BACKUP_ASYNC, true);
        backupTimeoutMillis = p.positiveLong(SESSION_BACKUP_TIMEOUT, 100, "milliseconds");
        if (sticky && backupAsync && enabled && p.raw(SESSION_BACKUP_TIMEOUT) != null) {
            noEffect.add(SESSION_BACKUP_TIMEOUT + " (with asynchronous sticky backups no request waits for its"
                    + " backup; it bounds that wait with " + SESSION_BACKUP_ASYNC + "=\"false\" or sticky=\"false\")");
        }
        operationTimeoutMillis = p.positiveLong(OPERATION_TIMEOUT, 1000, "milliseconds");
        if (p.errors.isEmpty() && operationTimeoutMillis < MIN_PLAUSIBLE_OPERATION_TIMEOUT_MILLIS) {
            risks.add(OPERATION_TIMEOUT + "=" + operationTimeoutMillis + " ms is shorter than a busy memcached may take"
                    + " to answer, and every operation past it takes its node out of use; it is in milliseconds:"
                    + " write " + OPERATION_TIMEOUT + "=\"" + operationTimeoutMillis * 1000 + "\" if seconds were meant,"
                    + " or 1000 (the default)");
        }
        if (!sticky && p.errors.isEmpty() && lockExpirationSeconds > MAX_PLAUSIBLE_LOCK_EXPIRATION_SECONDS) {
            risks.add(LOCK_EXPIRATION + "=" + lockExpirationSeconds + " s: a lock left by a Tomcat that died lives that"
                    + " long, and every locking request of its session waits " + LOCK_WAIT_TIMEOUT + " for it meanwhile;"
                    + " it is in seconds: write " + LOCK_EXPIRATION + "=\"" + Math.max(1, lockExpirationSeconds / 1000)
                    + "\" if milliseconds were meant, or 30 (the default)");
        }
        // A pool starts a thread per task up to this count: a typo of 10000 would be thousands of threads.
        backupThreadCount = (int) p.positiveLong(BACKUP_THREAD_COUNT, Runtime.getRuntime().availableProcessors(),
                "threads", MAX_BACKUP_THREADS, "each is a thread of its own");
        // The queue is allocated whole at start.
        backupQueueSize = (int) p.positiveLong(BACKUP_QUEUE_SIZE, 10_000, "sessions", MAX_BACKUP_QUEUE,
                "the queue is allocated at start");
        storageKeyPrefix = p.text(STORAGE_KEY_PREFIX, DEFAULT_STORAGE_KEY_PREFIX);
        StorageKeyPrefix.validate(storageKeyPrefix, p.errors);
        if (!StorageKeyPrefix.namesTheWebapp(storageKeyPrefix)) {
            risks.add(STORAGE_KEY_PREFIX + "=\"" + storageKeyPrefix + "\" does not name the webapp: a webapp on the"
                    + " same memcached nodes whose prefix comes out the same reads this webapp's sessions by their ids,"
                    + " logins included, and this webapp reads its sessions; add context (or context.hash) unless"
                    + " the webapps are meant to share sessions");
        }
        msm2StorageKeyPrefix = p.text(STORAGE_KEY_PREFIX, MSM2_DEFAULT_STORAGE_KEY_PREFIX);
        transcoderFactoryClass = p.text(TRANSCODER_FACTORY_CLASS, DEFAULT_TRANSCODER_FACTORY);
        readTranscoderFactoryClasses = readTranscoders(p.raw(READ_TRANSCODER_FACTORY_CLASSES), transcoderFactoryClass);
        if (!readTranscoderFactoryClasses.isEmpty()) {
            risks.add(READ_TRANSCODER_FACTORY_CLASSES + " reads sessions written by " + String.join(", ",
                    readTranscoderFactoryClasses) + " too, so bytes planted in memcached meet their deserializers as"
                    + " well; remove it once every Tomcat writes with " + TRANSCODER_FACTORY_CLASS + " and the longest"
                    + " session timeout has passed");
        }
        statisticsEnabled = p.bool(ENABLE_STATISTICS, true);
        // 2.3.2 spoke the text protocol unless told otherwise; a Tomcat joining its cluster does too,
        // since a proxy in front of memcached may speak nothing else.
        String protocol = p.text(MEMCACHED_PROTOCOL, compatibility == Compatibility.NONE ? "binary" : "text")
                .toLowerCase(Locale.ROOT);
        if (!protocol.equals("binary") && !protocol.equals("text")) {
            p.errors.add("memcachedProtocol: '" + protocol + "' is not a protocol; write binary or text");
        }
        binaryProtocol = !protocol.equals("text");
        // What protects sessions, written but empty, is an error: read as absent, it would turn SASL,
        // TLS or encryption off (or trust the JVM's public CAs) without a word.
        p.notEmpty(USERNAME, p.raw(USERNAME), "write the SASL user, or remove username and password to connect"
                + " without SASL");
        p.notEmpty(PASSWORD, p.asWritten(PASSWORD), "write the SASL user's password, or remove username and"
                + " password to connect without SASL");
        p.notEmpty(TLS, p.raw(TLS), "write true or false");
        p.notEmpty(TLS_HOSTNAME_VERIFICATION, p.raw(TLS_HOSTNAME_VERIFICATION), "write true or false");
        for (String store : new String[] {TLS_TRUST_STORE_FILE, TLS_KEY_STORE_FILE}) {
            p.notEmpty(store, p.raw(store), "write the path of the store, or remove " + store);
        }
        for (String storePassword : new String[] {TLS_TRUST_STORE_PASSWORD, TLS_KEY_STORE_PASSWORD}) {
            p.notEmpty(storePassword, p.asWritten(storePassword), "write the store's password, or remove "
                    + storePassword + " for a store without one");
        }
        p.notEmpty(ENCRYPTION_KEYS, p.raw(ENCRYPTION_KEYS), "write the path of the key file, or remove"
                + " encryptionKeys to store sessions in clear");
        // Read as absent, these would fall back to the built-in filter instead of the one meant, and store
        // every attribute.
        p.notEmpty(SERIAL_FILTER, p.raw(SERIAL_FILTER), "write the filter, or remove serialFilter for the built-in one");
        p.notEmpty(SESSION_ATTRIBUTE_FILTER, p.raw(SESSION_ATTRIBUTE_FILTER), "write the pattern of the attributes to"
                + " store, or remove sessionAttributeFilter to store every attribute");
        username = p.raw(USERNAME);
        password = p.asWritten(PASSWORD);
        if (username != null && !binaryProtocol) {
            p.errors.add("username: SASL authentication needs memcachedProtocol=\"binary\""
                    + (p.raw(MEMCACHED_PROTOCOL) == null ? " (memcached-session-manager 2.3.2 ignored username with its"
                    + " default text protocol; write memcachedProtocol=\"binary\" to authenticate, or remove username"
                    + " and password)" : ""));
        }
        // The filter's syntax belongs to the transcoders, which check it when they are created.
        serialFilter = p.raw(SERIAL_FILTER);
        String mode = p.text(SERIAL_FILTER_MODE, "enforce");
        if (!mode.equals("enforce") && !mode.equals("report")) {
            p.errors.add("serialFilterMode: '" + mode + "' is not a mode; write enforce (reject classes the filter"
                    + " refuses) or report (log each such class once and accept it, for migration)");
        }
        serialFilterReportOnly = mode.equals("report");
        boolean tlsOn = p.bool(TLS, false);
        boolean verifyHostnames = p.bool(TLS_HOSTNAME_VERIFICATION, true);
        if (tlsOn && !verifyHostnames && p.raw(TLS_TRUST_STORE_FILE) == null) {
            // Without its names checked, any certificate the JVM's public CAs signed would pass.
            p.errors.add(TLS_HOSTNAME_VERIFICATION + ": \"false\" needs tlsTrustStoreFile, a trust store holding only the"
                    + " certificates of your memcached nodes (or their own CA); with the JVM's public CAs any site's"
                    + " certificate would be accepted");
        }
        if (tlsOn) {
            for (String[] pair : new String[][] {{TLS_TRUST_STORE_PASSWORD, TLS_TRUST_STORE_FILE},
                {TLS_KEY_STORE_PASSWORD, TLS_KEY_STORE_FILE}}) {
                if (p.raw(pair[0]) != null && p.raw(pair[1]) == null) {
                    p.errors.add(pair[0] + ": set without " + pair[1] + "; write the store's file too, or remove "
                            + pair[0]);
                }
            }
        }
        tls = tlsOn && enabled ? TlsContext.build(p.raw(TLS_TRUST_STORE_FILE), p.asWritten(TLS_TRUST_STORE_PASSWORD),
                p.raw(TLS_KEY_STORE_FILE), p.asWritten(TLS_KEY_STORE_PASSWORD), verifyHostnames, p.errors) : null;
        if (!tlsOn && enabled) {
            // Who writes a trust store expects TLS: starting without it would send sessions, and a SASL
            // password, in clear. Never a weaker mode than the one written.
            for (String tlsOnly : new String[] {TLS_TRUST_STORE_FILE, TLS_TRUST_STORE_PASSWORD, TLS_KEY_STORE_FILE,
                TLS_KEY_STORE_PASSWORD, TLS_HOSTNAME_VERIFICATION}) {
                if (p.raw(tlsOnly) != null) {
                    p.errors.add(tlsOnly + ": set while " + TLS + " is not \"true\", so memcached would be reached"
                            + " without TLS; write " + TLS + "=\"true\", or remove " + tlsOnly);
                }
            }
        }
        if (p.raw(COPY_COLLECTIONS_FOR_SERIALIZATION) != null) {
            noEffect.add(COPY_COLLECTIONS_FOR_SERIALIZATION + " (memcached-session-manager 2.3.2 copied collections"
                    + " before its serializers ran in a thread of their own; msm encodes in the request's thread)");
        }
        if (p.raw(CUSTOM_CONVERTER) != null) {
            noEffect.add(CUSTOM_CONVERTER + " (memcached-session-manager 2.3.2's serializers for Kryo and Javolution;"
                    + " msm's Kryo reads JDK types without them, and falls back to Java serialization for a class"
                    + " it cannot handle)");
        }
        String keyFile = p.raw(ENCRYPTION_KEYS);
        encryptionKeys = keyFile == null || !enabled ? null : EncryptionKeys.read(ENCRYPTION_KEYS, keyFile, p.errors);
        readUnencryptedSessions = p.bool(READ_UNENCRYPTED_SESSIONS, false);
        if (keyFile != null && compatibility != Compatibility.NONE) {
            p.errors.add("compatibility: memcached-session-manager 2.3.2 stores sessions in clear, which encryptionKeys"
                    + " forbids; switch to msm first, then remove compatibility and add encryptionKeys with"
                    + " readUnencryptedSessions=\"true\"");
        }
        if (keyFile != null && readUnencryptedSessions) {
            risks.add(READ_UNENCRYPTED_SESSIONS + "=\"true\" reads sessions stored in clear, and anyone who can write"
                    + " to memcached can plant one; it is for the switch to encryption only: remove it once the"
                    + " longest session timeout has passed since " + ENCRYPTION_KEYS + " was added");
        }
        if (keyFile == null && p.raw(READ_UNENCRYPTED_SESSIONS) != null) {
            noEffect.add(READ_UNENCRYPTED_SESSIONS + " (sessions are not encrypted without encryptionKeys)");
        }
        if ((username == null) != (password == null)) {
            p.errors.add((username == null ? "username" : "password")
                    + ": username and password go together; write both or neither");
        }
        if (!enabled) {
            for (String name : p.raw.keySet()) {
                if (!name.equals(ENABLED) && p.raw(name) != null) {
                    noEffect.add(name + " (enabled=\"false\" keeps sessions in memory only)");
                }
            }
        } else if (!sticky) {
            // A load during an outage may wait out two operation timeouts (its node's read, then the
            // backup node's markers asked twice) while its request holds the lock.
            if (lockingMode.kind != LockingMode.Kind.NONE && p.errors.isEmpty()
                    && lockWaitTimeoutMillis < 3 * operationTimeoutMillis) {
                risks.add(LOCK_WAIT_TIMEOUT + "=" + lockWaitTimeoutMillis + " ms is less than three " + OPERATION_TIMEOUT
                        + "s (3 x " + operationTimeoutMillis + " ms): while a memcached node hangs, a request holding a"
                        + " session's lock may wait that long for memcached, and the session's next request then goes"
                        + " on without the lock; write " + LOCK_WAIT_TIMEOUT + "=\"" + 3 * operationTimeoutMillis
                        + "\" or more");
            }
            if (p.raw(SESSION_BACKUP_ASYNC) != null) {
                noEffect.add(SESSION_BACKUP_ASYNC + " (with sticky=\"false\" every request stores its session before"
                        + " its lock is freed)");
            }
        }
    }

    /**
     * @param raw attribute name to the text the operator wrote; absent or null means "not set"
     * @throws ConfigurationException naming every attribute that is wrong and what to write instead
     */
    public static Settings parse(Map<String, String> raw) throws ConfigurationException {
        return parse(raw, (settings, errors) -> { });
    }

    /**
     * As {@link #parse(Map)}, with a further check whose problems join the same list: the operator
     * reads every bad attribute in one message.
     */
    public static Settings parse(Map<String, String> raw, Check further) throws ConfigurationException {
        Parser parser = new Parser(raw);
        Settings settings = new Settings(parser);
        further.run(settings, parser.errors);
        if (!parser.errors.isEmpty()) {
            throw new ConfigurationException(parser.errors);
        }
        return settings;
    }

    public boolean enabled() {
        return enabled;
    }

    public List<MemcachedNode> nodes() {
        return nodes;
    }

    /** @return the node of ids that name none, see {@link MemcachedNodes#implicitNode}; else null */
    public String implicitNode() {
        return MemcachedNodes.implicitNode(nodes);
    }

    /** @return false when new session ids carry no node id, as 2.3.2's did for a single {@code host:port} */
    public boolean nodeInNewIds() {
        return compatibility == Compatibility.NONE || implicitNode() == null;
    }

    public boolean sticky() {
        return sticky;
    }

    public LockingMode lockingMode() {
        return lockingMode;
    }

    public int lockExpirationSeconds() {
        return lockExpirationSeconds;
    }

    public long lockWaitTimeoutMillis() {
        return lockWaitTimeoutMillis;
    }

    /** @return null when no request is ignored */
    public Pattern requestUriIgnorePattern() {
        return requestUriIgnorePattern;
    }

    /**
     * @return the names of the attributes that are stored (the whole name matches), as
     *     memcached-session-manager 2.3.2 meant it; null when every attribute is stored
     */
    public Pattern sessionAttributeFilter() {
        return sessionAttributeFilter;
    }

    public Compatibility compatibility() {
        return compatibility;
    }

    /** @return the {@code storageKeyPrefix} spec of 2.3.2's keys: as written, else 2.3.2's default */
    public String msm2StorageKeyPrefix() {
        return msm2StorageKeyPrefix;
    }

    private static Compatibility compatibility(String value, List<String> errors) {
        if (value == null) {
            return Compatibility.NONE;
        }
        switch (value) {
            case "msm2":
                return Compatibility.MSM2;
            case "msm2-read":
                return Compatibility.MSM2_READ;
            default:
                errors.add("compatibility: '" + value + "' is not understood; write msm2 (while Tomcats with"
                        + " memcached-session-manager 2.3.2 still run) or msm2-read (once none does and the session"
                        + " timeout plus a minute has passed since the last one stopped)");
                return Compatibility.NONE;
        }
    }

    public boolean backupAsync() {
        return backupAsync;
    }

    public long backupTimeoutMillis() {
        return backupTimeoutMillis;
    }

    public long operationTimeoutMillis() {
        return operationTimeoutMillis;
    }

    public int backupThreadCount() {
        return backupThreadCount;
    }

    public int backupQueueSize() {
        return backupQueueSize;
    }

    public String storageKeyPrefix() {
        return storageKeyPrefix;
    }

    public String transcoderFactoryClass() {
        return transcoderFactoryClass;
    }

    /** @return the factories, besides {@link #transcoderFactoryClass()}, whose sessions are read; often empty */
    public List<String> readTranscoderFactoryClasses() {
        return readTranscoderFactoryClasses;
    }

    /** A comma-separated list; the writer's own name in it changes nothing and is left out. */
    private List<String> readTranscoders(String raw, String writer) {
        List<String> names = new ArrayList<>();
        if (raw == null) {
            return names;
        }
        for (String name : raw.split(",")) {
            String trimmed = name.trim();
            if (trimmed.equals(writer)) {
                noEffect.add(READ_TRANSCODER_FACTORY_CLASSES + ": " + trimmed + " (" + TRANSCODER_FACTORY_CLASS
                        + " reads its own sessions)");
            } else if (!trimmed.isEmpty() && !names.contains(trimmed)) {
                names.add(trimmed);
            }
        }
        return Collections.unmodifiableList(names);
    }

    public boolean statisticsEnabled() {
        return statisticsEnabled;
    }

    public boolean binaryProtocol() {
        return binaryProtocol;
    }

    public String username() {
        return username;
    }

    String password() {
        return password;
    }

    /** @return the {@code serialFilter} attribute as written, or null */
    public String serialFilter() {
        return serialFilter;
    }

    public boolean serialFilterReportOnly() {
        return serialFilterReportOnly;
    }

    /** @return the TLS context for every node; null without {@code tls="true"} */
    TlsContext tls() {
        return tls;
    }

    /** @return the keys that encrypt sessions and name them in memcached; null without {@code encryptionKeys} */
    public EncryptionKeys encryptionKeys() {
        return encryptionKeys;
    }

    /** @return true while migrating to encryption: unencrypted sessions are read, and written back encrypted */
    public boolean readUnencryptedSessions() {
        return readUnencryptedSessions;
    }

    /** @return the attributes written that have no effect here, each with the reason; for one WARN at start */
    public List<String> withoutEffect() {
        return Collections.unmodifiableList(noEffect);
    }

    /** @return settings that work but risk a lost lock or change when memcached fails, each with what to write */
    public List<String> risks() {
        return Collections.unmodifiableList(risks);
    }

    /** The effective configuration for the start-up log; the password is never shown. */
    public Map<String, String> describe() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put(ENABLED, String.valueOf(enabled));
        d.put(MEMCACHED_NODES, String.valueOf(nodes));
        d.put(STICKY, String.valueOf(sticky));
        if (!sticky) {
            d.put(LOCKING_MODE, lockingMode.toString());
            d.put(LOCK_EXPIRATION, lockExpirationSeconds + " s");
            d.put(LOCK_WAIT_TIMEOUT, lockWaitTimeoutMillis + " ms");
        }
        d.put(REQUEST_URI_IGNORE_PATTERN, requestUriIgnorePattern == null ? "(none)" : requestUriIgnorePattern.pattern());
        if (sessionAttributeFilter != null) {
            d.put(SESSION_ATTRIBUTE_FILTER, sessionAttributeFilter.pattern() + " (only attributes whose name matches are stored)");
        }
        d.put(SESSION_BACKUP_ASYNC, String.valueOf(backupAsync));
        d.put(SESSION_BACKUP_TIMEOUT, backupTimeoutMillis + " ms");
        d.put(OPERATION_TIMEOUT, operationTimeoutMillis + " ms");
        d.put(BACKUP_THREAD_COUNT, String.valueOf(backupThreadCount));
        d.put(BACKUP_QUEUE_SIZE, String.valueOf(backupQueueSize));
        d.put(STORAGE_KEY_PREFIX, storageKeyPrefix);
        if (compatibility != Compatibility.NONE) {
            d.put(COMPATIBILITY, (compatibility == Compatibility.MSM2 ? "msm2 (reads and writes" : "msm2-read (reads")
                    + " the copies of memcached-session-manager 2.3.2, keys with storageKeyPrefix=" + msm2StorageKeyPrefix
                    + ")");
        }
        d.put(TRANSCODER_FACTORY_CLASS, transcoderFactoryClass);
        if (!readTranscoderFactoryClasses.isEmpty()) {
            d.put(READ_TRANSCODER_FACTORY_CLASSES, String.join(",", readTranscoderFactoryClasses)
                    + " (sessions they wrote are read, and written back with " + TRANSCODER_FACTORY_CLASS + ")");
        }
        d.put(ENABLE_STATISTICS, String.valueOf(statisticsEnabled));
        d.put(SERIAL_FILTER, serialFilter == null ? "(built-in)" : serialFilter);
        d.put(SERIAL_FILTER_MODE, serialFilterReportOnly ? "report" : "enforce");
        d.put(MEMCACHED_PROTOCOL, binaryProtocol ? "binary" : "text");
        d.put(USERNAME, username == null ? "(none)" : username);
        d.put(PASSWORD, password == null ? "(none)" : "****");
        d.put(TLS, tls == null ? "false" : "true (" + tls + ")");
        d.put(ENCRYPTION_KEYS, encryptionKeys == null ? "(none: sessions and their key names are stored in clear)"
                : encryptionKeys.path() + " (key ids " + encryptionKeys.ids() + ", the first encrypts; fingerprints names:"
                        + encryptionKeys.namesFingerprint() + ":" + encryptionKeys.currentKeyFingerprint() + ")");
        if (encryptionKeys != null) {
            d.put(READ_UNENCRYPTED_SESSIONS, String.valueOf(readUnencryptedSessions));
        }
        return d;
    }

    /** Every attribute this class reads. */
    private static final List<String> ATTRIBUTES = java.util.Arrays.asList(ENABLED, MEMCACHED_NODES, FAILOVER_NODES,
            STICKY, LOCKING_MODE, LOCK_EXPIRATION, LOCK_WAIT_TIMEOUT, REQUEST_URI_IGNORE_PATTERN, SESSION_BACKUP_ASYNC,
            SESSION_BACKUP_TIMEOUT, OPERATION_TIMEOUT, BACKUP_THREAD_COUNT, BACKUP_QUEUE_SIZE, STORAGE_KEY_PREFIX,
            TRANSCODER_FACTORY_CLASS, READ_TRANSCODER_FACTORY_CLASSES, ENABLE_STATISTICS, MEMCACHED_PROTOCOL, USERNAME, PASSWORD, SERIAL_FILTER,
            SERIAL_FILTER_MODE, TLS, TLS_TRUST_STORE_FILE, TLS_TRUST_STORE_PASSWORD, TLS_KEY_STORE_FILE,
            TLS_KEY_STORE_PASSWORD, TLS_HOSTNAME_VERIFICATION, ENCRYPTION_KEYS, READ_UNENCRYPTED_SESSIONS,
            SESSION_ATTRIBUTE_FILTER, COMPATIBILITY, COPY_COLLECTIONS_FOR_SERIALIZATION, CUSTOM_CONVERTER);
    /**
     * Attributes of Tomcat's own managers that a context file switched to msm may still carry
     * ({@code pathname=""} is the usual way to turn StandardManager's file off): a WARN, not a stop.
     */
    private static final List<String> TOMCAT_LEFTOVERS = java.util.Arrays.asList("pathname", "saveOnRestart",
            "maxIdleBackup", "maxIdleSwap", "minIdleSwap", "distributable",
            // msm's manager takes it on every line (2.3.2's meaning); kept should a subclass drop the setter.
            "maxInactiveInterval");
    /** memcached's longest relative expiry: 30 days. */
    static final long MAX_RELATIVE_EXPIRY = 2_592_000;
    static final long MAX_BACKUP_QUEUE = 1_000_000;
    static final long MAX_BACKUP_THREADS = 256;
    /**
     * Below it an operationTimeout was most likely meant in seconds: memcached on a busy host
     * answers in more than that now and then, and each such answer takes its node out of use.
     */
    static final long MIN_PLAUSIBLE_OPERATION_TIMEOUT_MILLIS = 10;
    /** Above it a lockExpiration was most likely meant in milliseconds: a dead Tomcat's lock would outlive a workday. */
    static final long MAX_PLAUSIBLE_LOCK_EXPIRATION_SECONDS = 3_600;
    /** {@code ${name}} as Tomcat leaves it when no system property of that name is set. */
    private static final Pattern PROPERTY = Pattern.compile("\\$\\{([^}]+)}");

    /**
     * Tomcat replaces {@code ${name}} in a context file by the system property and leaves it as written
     * when none is set: a password read from catalina.properties that is missing there would be sent as
     * the text "${...}", and the start would go on with every node refusing it.
     */
    private void unreplacedProperties(Parser p) {
        for (Map.Entry<String, String> a : p.raw.entrySet()) {
            Matcher m = a.getValue() == null ? null : PROPERTY.matcher(a.getValue());
            boolean secret = a.getKey().equals(PASSWORD) || a.getKey().equals(TLS_TRUST_STORE_PASSWORD)
                    || a.getKey().equals(TLS_KEY_STORE_PASSWORD);
            // "${" within a password may be its own characters, and a message must not quote them: only a
            // password that is one property reference as a whole counts as one.
            if (m != null && (secret ? m.matches() : m.find())) {
                p.errors.add(a.getKey() + ": the system property '" + m.group(1) + "' it names is not set; set it in"
                        + " conf/catalina.properties (or with -D" + m.group(1) + "=...), or write the value itself");
            }
        }
    }

    /**
     * A misspelled attribute (encryptionKey, TLS) would leave the webapp running without what it asks
     * for: Tomcat only warns about a name no setter takes. The manager passes such names here.
     */
    private void unknownAttributes(Parser p) {
        for (String name : p.raw.keySet()) {
            if (ATTRIBUTES.contains(name)) {
                continue;
            }
            if (TOMCAT_LEFTOVERS.contains(name)) {
                noEffect.add(name + " (an attribute of Tomcat's StandardManager or PersistentManager; msm keeps"
                        + " sessions in memcached)");
                continue;
            }
            String like = null;
            for (String known : ATTRIBUTES) {
                if (known.equalsIgnoreCase(name) || known.toLowerCase(Locale.ROOT).startsWith(
                        name.toLowerCase(Locale.ROOT)) || name.toLowerCase(Locale.ROOT).startsWith(
                        known.toLowerCase(Locale.ROOT))) {
                    like = known;
                    break;
                }
            }
            p.errors.add(name + ": msm's Manager has no such attribute" + (like == null ? "" : "; did you mean " + like
                    + "?") + " (its attributes: " + String.join(", ", ATTRIBUTES) + ")");
        }
    }

    /** Reads raw attribute text, recording one error per bad attribute. */
    private static final class Parser {
        final Map<String, String> raw;
        final List<String> errors = new ArrayList<>();

        Parser(Map<String, String> raw) {
            this.raw = raw;
        }

        /** A password: as written, spaces included; null when absent or empty. */
        String asWritten(String name) {
            String value = raw.get(name);
            return value == null || value.isEmpty() ? null : value;
        }

        /**
         * An attribute written with nothing in it (an unset property or variable in a template) is
         * otherwise read as absent.
         *
         * @param read what the attribute reads as ({@link #raw}, or {@link #asWritten} for a password)
         */
        void notEmpty(String name, String read, String what) {
            if (raw.get(name) != null && read == null) {
                errors.add(name + ": written but empty (an unset property or variable?); " + what);
            }
        }

        String raw(String name) {
            String value = raw.get(name);
            return value == null || value.trim().isEmpty() ? null : value.trim();
        }

        String text(String name, String dflt) {
            String value = raw(name);
            return value == null ? dflt : value;
        }

        boolean bool(String name, boolean dflt) {
            String value = raw(name);
            if (value == null) {
                return dflt;
            }
            if (value.equalsIgnoreCase("true")) {
                return true;
            }
            if (value.equalsIgnoreCase("false")) {
                return false;
            }
            errors.add(name + ": '" + value + "' is not a boolean; write true or false (default " + dflt + ")");
            return dflt;
        }

        long positiveLong(String name, long dflt, String unit) {
            return positiveLong(name, dflt, unit, Integer.MAX_VALUE, null);
        }

        /** @param why what the maximum is for, said when a value exceeds it; null when it is int's range */
        long positiveLong(String name, long dflt, String unit, long max, String why) {
            String value = raw(name);
            if (value == null) {
                return dflt;
            }
            try {
                long parsed = Long.parseLong(value);
                if (parsed > 0 && parsed <= max) {
                    return parsed;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            errors.add(name + ": '" + value + "' must be a whole number of " + unit + " from 1 to " + max
                    + (why == null ? "" : " (" + why + ")") + " (default " + dflt + ")");
            return dflt;
        }

        Pattern pattern(String name) {
            String value = raw(name);
            if (value == null) {
                return null;
            }
            try {
                return Pattern.compile(value);
            } catch (PatternSyntaxException e) {
                errors.add(name + ": '" + value + "' is not a regular expression (" + e.getDescription()
                        + " near index " + e.getIndex() + ")");
                return null;
            }
        }
    }
}

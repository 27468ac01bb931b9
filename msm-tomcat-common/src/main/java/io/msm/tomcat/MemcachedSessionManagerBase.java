package io.msm.tomcat;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Session;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.session.ManagerBase;
import org.apache.catalina.session.StandardSession;
import org.apache.juli.logging.Log;

import io.msm.core.ConfigurationException;
import io.msm.core.SessionEngine;
import io.msm.core.SessionId;
import io.msm.core.Settings;

/**
 * Keeps the webapp's sessions in memcached: everything of {@code io.msm.tomcat.MemcachedSessionManager}
 * that is the same on every Tomcat line. Each adapter's subclass holds only how the manager learns
 * its context, which changed from Tomcat 7 (container) to 8.5 (context).
 *
 * Setters only keep the text the operator wrote, because Tomcat turns an exception from a setter
 * into one WARN line and goes on; {@link #startInternal()} validates all of it and stops the webapp
 * with one message listing every bad attribute.
 *
 * Longer than 400 lines only because Tomcat's digester needs a getter and a setter on this class for
 * every attribute of {@code <Manager>}: about half of the file. What a request does is in the
 * mode's {@link RequestStrategy}.
 */
public abstract class MemcachedSessionManagerBase extends ManagerBase
        implements LocalSessions, RequestGate, PrincipalStorage {
    private static final Log LOG = TomcatLogs.get(MemcachedSessionManagerBase.class);

    static {
        TomcatLine.checkServletApi(); // before any instance touches the servlet API: names the jar to install
    }
    /** Tomcat's own default for a context's {@code unloadDelay}. */
    private static final long DEFAULT_UNLOAD_DELAY_MILLIS = 2000;
    /** How long a stop lets requests past the webapp end by themselves (an error page) before ending them. */
    private static final long PUT_OFF_GRACE_MILLIS = 1000;

    /**
     * This webapp's storage key prefix and name (two webapps may share a prefix): what a later start
     * of it looks up in {@link KeptSessions} and {@link KeptRepairs}.
     */
    private String keepKey;
    private final Map<String, String> attributes = new ConcurrentHashMap<>();
    private final ThreadLocal<Boolean> ignoring = new ThreadLocal<>();
    private volatile SessionEngine engine;
    /**
     * What msm's transcoder can store, for Tomcat's test of a distributable webapp's values; null for
     * Tomcat's own test (Serializable): while stopped, so that a stopped manager pins no transcoder (nor
     * the webapp's class loader), and with compatibility="msm2".
     */
    private volatile java.util.function.Predicate<Object> storable;
    /** Sticky or non-sticky, chosen at start; null while msm is stopped or disabled. */
    private volatile RequestStrategy requests;
    private final RequestsInFlight inFlight = new RequestsInFlight();
    /** Ends put off past an error page; one per manager, so a stop runs its own only. */
    private final RequestEnds ends = new RequestEnds(inFlight);
    private final SessionMemory memory = new SessionMemory();

    {
        sessions = memory; // before Tomcat adds any session
    }

    /**
     * The manager's memory, whose remove by id, inside {@link #remove(Session, boolean)}, removes
     * only the session given. Non-sticky, two copies of one session can take turns in memory
     * (NonStickyRequests.load): Tomcat's remove by id took out the copy listed a moment before,
     * while a logout of the other was under way, and that one then served later requests logged in.
     */
    private static final class SessionMemory extends ConcurrentHashMap<String, Session> {
        private static final long serialVersionUID = 1L;
        private final transient ThreadLocal<Session> removing = new ThreadLocal<>();

        @Override
        public Session remove(Object id) {
            Session only = removing.get();
            if (only == null) {
                return super.remove(id);
            }
            return super.remove(id, only) ? only : null;
        }
    }

    /** Values Tomcat could not convert for msm's own typed setters, by attribute, with what to write. */
    private final Map<String, String> unconvertible = new ConcurrentHashMap<>();
    private final FormLogins formLogins = new FormLogins(this::context, this::contextName);
    private StatisticsMBean statisticsBean;

    @Override
    public String getName() {
        return "MemcachedSessionManager";
    }

    // ---- attributes, kept as written ----

    public void setEnabled(String v) {
        put(Settings.ENABLED, v);
    }

    public String getEnabled() {
        return attributes.get(Settings.ENABLED);
    }

    public void setMemcachedNodes(String v) {
        put(Settings.MEMCACHED_NODES, v);
    }

    public String getMemcachedNodes() {
        return attributes.get(Settings.MEMCACHED_NODES);
    }

    public void setFailoverNodes(String v) {
        put(Settings.FAILOVER_NODES, v);
    }

    public String getFailoverNodes() {
        return attributes.get(Settings.FAILOVER_NODES);
    }

    public void setSticky(String v) {
        put(Settings.STICKY, v);
    }

    public String getSticky() {
        return attributes.get(Settings.STICKY);
    }

    public void setLockingMode(String v) {
        put(Settings.LOCKING_MODE, v);
    }

    public String getLockingMode() {
        return attributes.get(Settings.LOCKING_MODE);
    }

    public void setLockExpiration(String v) {
        put(Settings.LOCK_EXPIRATION, v);
    }

    public String getLockExpiration() {
        return attributes.get(Settings.LOCK_EXPIRATION);
    }

    public void setLockWaitTimeout(String v) {
        put(Settings.LOCK_WAIT_TIMEOUT, v);
    }

    public String getLockWaitTimeout() {
        return attributes.get(Settings.LOCK_WAIT_TIMEOUT);
    }

    public void setRequestUriIgnorePattern(String v) {
        put(Settings.REQUEST_URI_IGNORE_PATTERN, v);
    }

    public String getRequestUriIgnorePattern() {
        return attributes.get(Settings.REQUEST_URI_IGNORE_PATTERN);
    }

    public void setSessionBackupAsync(String v) {
        put(Settings.SESSION_BACKUP_ASYNC, v);
    }

    public String getSessionBackupAsync() {
        return attributes.get(Settings.SESSION_BACKUP_ASYNC);
    }

    public void setSessionBackupTimeout(String v) {
        put(Settings.SESSION_BACKUP_TIMEOUT, v);
    }

    public String getSessionBackupTimeout() {
        return attributes.get(Settings.SESSION_BACKUP_TIMEOUT);
    }

    public void setOperationTimeout(String v) {
        put(Settings.OPERATION_TIMEOUT, v);
    }

    public String getOperationTimeout() {
        return attributes.get(Settings.OPERATION_TIMEOUT);
    }

    public void setBackupThreadCount(String v) {
        put(Settings.BACKUP_THREAD_COUNT, v);
    }

    public String getBackupThreadCount() {
        return attributes.get(Settings.BACKUP_THREAD_COUNT);
    }

    public void setBackupQueueSize(String v) {
        put(Settings.BACKUP_QUEUE_SIZE, v);
    }

    public String getBackupQueueSize() {
        return attributes.get(Settings.BACKUP_QUEUE_SIZE);
    }

    public void setStorageKeyPrefix(String v) {
        put(Settings.STORAGE_KEY_PREFIX, v);
    }

    public String getStorageKeyPrefix() {
        return attributes.get(Settings.STORAGE_KEY_PREFIX);
    }

    public void setTranscoderFactoryClass(String v) {
        put(Settings.TRANSCODER_FACTORY_CLASS, v);
    }

    public String getTranscoderFactoryClass() {
        return attributes.get(Settings.TRANSCODER_FACTORY_CLASS);
    }

    public void setReadTranscoderFactoryClasses(String v) {
        put(Settings.READ_TRANSCODER_FACTORY_CLASSES, v);
    }

    public String getReadTranscoderFactoryClasses() {
        return attributes.get(Settings.READ_TRANSCODER_FACTORY_CLASSES);
    }

    public void setEnableStatistics(String v) {
        put(Settings.ENABLE_STATISTICS, v);
    }

    public String getEnableStatistics() {
        return attributes.get(Settings.ENABLE_STATISTICS);
    }

    public void setMemcachedProtocol(String v) {
        put(Settings.MEMCACHED_PROTOCOL, v);
    }

    public String getMemcachedProtocol() {
        return attributes.get(Settings.MEMCACHED_PROTOCOL);
    }

    public void setUsername(String v) {
        put(Settings.USERNAME, v);
    }

    public String getUsername() {
        return attributes.get(Settings.USERNAME);
    }

    public void setPassword(String v) {
        put(Settings.PASSWORD, v);
    }

    public void setSerialFilter(String v) {
        put(Settings.SERIAL_FILTER, v);
    }

    public String getSerialFilter() {
        return attributes.get(Settings.SERIAL_FILTER);
    }

    public void setTls(String v) {
        put(Settings.TLS, v);
    }

    public String getTls() {
        return attributes.get(Settings.TLS);
    }

    public void setTlsTrustStoreFile(String v) {
        put(Settings.TLS_TRUST_STORE_FILE, v);
    }

    public String getTlsTrustStoreFile() {
        return attributes.get(Settings.TLS_TRUST_STORE_FILE);
    }

    public void setTlsTrustStorePassword(String v) {
        put(Settings.TLS_TRUST_STORE_PASSWORD, v);
    }

    public void setTlsKeyStoreFile(String v) {
        put(Settings.TLS_KEY_STORE_FILE, v);
    }

    public String getTlsKeyStoreFile() {
        return attributes.get(Settings.TLS_KEY_STORE_FILE);
    }

    public void setTlsKeyStorePassword(String v) {
        put(Settings.TLS_KEY_STORE_PASSWORD, v);
    }

    public void setTlsHostnameVerification(String v) {
        put(Settings.TLS_HOSTNAME_VERIFICATION, v);
    }

    public String getTlsHostnameVerification() {
        return attributes.get(Settings.TLS_HOSTNAME_VERIFICATION);
    }

    public void setEncryptionKeys(String v) {
        put(Settings.ENCRYPTION_KEYS, v);
    }

    public String getEncryptionKeys() {
        return attributes.get(Settings.ENCRYPTION_KEYS);
    }

    public void setReadUnencryptedSessions(String v) {
        put(Settings.READ_UNENCRYPTED_SESSIONS, v);
    }

    public String getReadUnencryptedSessions() {
        return attributes.get(Settings.READ_UNENCRYPTED_SESSIONS);
    }

    /**
     * Tomcat's setter throws on a pattern that does not compile, and Tomcat's digester then only WARNs:
     * the webapp would run without the filter, and every attribute it was written to keep out of
     * memcached would be stored. The start refuses it instead, as it refuses msm's own attributes;
     * so does one written but empty, which Tomcat reads as no filter.
     */
    @Override
    public void setSessionAttributeNameFilter(String filter) {
        filter("sessionAttributeNameFilter", filter, () -> super.setSessionAttributeNameFilter(filter));
    }

    /**
     * Whether the context file wrote {@code sessionAttributeValueClassNameFilter}. With a SecurityManager
     * on, Tomcat 8.5 to 10.1 set one of their own (strings, numbers, booleans), for the sessions their
     * managers write to a file: every other attribute would stay out of memcached, and be lost. msm's
     * serialFilter decides what is deserialized instead, so the start takes Tomcat's default out.
     */
    private volatile boolean valueClassFilterWritten;

    /** As {@link #setSessionAttributeNameFilter}: the class names of the values that are stored. */
    @Override
    public void setSessionAttributeValueClassNameFilter(String filter) {
        valueClassFilterWritten = unconvertible != null; // null: ManagerBase's constructor sets Tomcat's default
        filter("sessionAttributeValueClassNameFilter", filter,
                () -> super.setSessionAttributeValueClassNameFilter(filter));
    }

    private void filter(String attribute, String filter, Runnable set) {
        if (unconvertible == null) {
            // Called by ManagerBase's constructor, before this class's fields are set (a SecurityManager on,
            // Tomcat 8.5 to 10.1): Tomcat's default, which the start takes out again (valueClassFilterWritten).
            set.run();
            return;
        }
        unconvertible.remove(attribute);
        if (filter != null && filter.trim().isEmpty()) {
            unconvertible.put(attribute, "written but empty (an unset property or variable?), which would store"
                    + " every attribute; write the pattern, or remove " + attribute);
            return;
        }
        try {
            set.run();
        } catch (java.util.regex.PatternSyntaxException e) {
            unconvertible.put(attribute, "'" + filter + "' is not a regular expression (" + e.getDescription()
                    + " near index " + e.getIndex() + "), and without it every attribute would be stored");
        }
    }

    /**
     * Tomcat's default is false, where its managers write sessions to a file at a restart; msm stores the
     * login with the session unless the context file says {@code persistAuthentication="false"}: then a
     * user moved to another Tomcat logs in again.
     */
    private volatile boolean persistAuthenticationWritten;

    @Override
    public void setPersistAuthentication(boolean persistAuthentication) {
        persistAuthenticationWritten = true;
        super.setPersistAuthentication(persistAuthentication);
    }

    /** @return false when the principal and auth type are kept out of memcached */
    boolean storesLogins() {
        return !persistAuthenticationWritten || getPersistAuthentication();
    }

    /** memcached-session-manager 2.3.2's name for Tomcat's {@code sessionAttributeNameFilter}. */
    public void setSessionAttributeFilter(String v) {
        put(Settings.SESSION_ATTRIBUTE_FILTER, v);
    }

    public String getSessionAttributeFilter() {
        return attributes.get(Settings.SESSION_ATTRIBUTE_FILTER);
    }

    public void setCompatibility(String v) {
        put(Settings.COMPATIBILITY, v);
    }

    public String getCompatibility() {
        return attributes.get(Settings.COMPATIBILITY);
    }

    /** Accepted from memcached-session-manager 2.3.2's context files; named at start as without effect. */
    public void setCopyCollectionsForSerialization(String v) {
        put(Settings.COPY_COLLECTIONS_FOR_SERIALIZATION, v);
    }

    public void setCustomConverter(String v) {
        put(Settings.CUSTOM_CONVERTER, v);
    }

    public void setSerialFilterMode(String v) {
        put(Settings.SERIAL_FILTER_MODE, v);
    }

    public String getSerialFilterMode() {
        return attributes.get(Settings.SERIAL_FILTER_MODE);
    }

    /**
     * Tomcat's digester calls this for an attribute of the context file that no setter takes. It is
     * kept, and the start refuses it by name: a misspelled {@code encryptionKeys} or {@code tls} must
     * not leave the webapp running without encryption or TLS, behind a WARN of Tomcat's alone.
     */
    public boolean setProperty(String name, String value) {
        if (name == null || name.isEmpty() || "className".equals(name)) {
            return false;
        }
        java.lang.reflect.Method setter = setter(name);
        if (setter == null) {
            put(name, value);
            return true;
        }
        // A value Tomcat could not convert for a setter of its own keeps Tomcat's WARN; for one of
        // msm's (maxInactiveInterval, kept from 2.3.2) the start refuses it, as any bad value.
        if (setter.getDeclaringClass().getName().startsWith("io.msm.")) {
            unconvertible.put(name, "'" + value + "' is not a whole number; write one, such as 1800");
            return true;
        }
        return false;
    }

    private java.lang.reflect.Method setter(String name) {
        String setter = "set" + Character.toUpperCase(name.charAt(0)) + name.substring(1);
        for (java.lang.reflect.Method m : getClass().getMethods()) {
            if (m.getName().equals(setter) && m.getParameterCount() == 1) {
                return m;
            }
        }
        return null;
    }

    private void put(String name, String value) {
        if (value == null) {
            attributes.remove(name);
        } else {
            attributes.put(name, value);
        }
    }

    // ---- lifecycle ----

    /** @return true in the Tomcat 7 adapter, whose jar serves that line alone */
    protected boolean forTomcat7() {
        return false;
    }

    @Override
    protected void startInternal() throws LifecycleException {
        String line = TomcatLine.check(MemcachedSessionManagerBase.class.getClassLoader(), forTomcat7());
        if (line != null) {
            throw new LifecycleException(line);
        }
        super.startInternal();
        SetupChecks setup = new SetupChecks(context(), contextName());
        setup.noMsm2Jars(getClass());
        Context context = context();
        ClassLoader webapp = context.getLoader() != null ? context.getLoader().getClassLoader()
                : Thread.currentThread().getContextClassLoader();
        // What the container's generator gives: the engine accepts ids of this form only.
        String sample = getSessionIdGenerator().generateSessionId(null);
        int route = sample.indexOf('.'); // the container's generator may append the jvmRoute still
        sample = route < 0 ? sample : sample.substring(0, route);
        int randomLength = sample.length();
        String host = context.getParent().getName();
        StartChecks checks = new StartChecks(webapp, host, context, randomLength);
        Settings settings;
        try {
            // Values Tomcat could not convert join the attributes' list: one message for every bad attribute.
            settings = Settings.parse(ConfiguredFiles.resolved(attributes, context), (parsed, errors) -> {
                unconvertible.forEach((name, problem) -> errors.add(name + ": " + problem));
                if (!storesLogins() && !parsed.sticky() && parsed.enabled()) {
                    errors.add("persistAuthentication: 'false' keeps logins out of memcached, and with sticky=\"false\""
                            + " every request loads its session from there: each user would be logged out at their next"
                            + " request; remove persistAuthentication, or write sticky=\"true\"");
                }
                checks.run(parsed, errors);
            });
        } catch (ConfigurationException e) {
            throw new LifecycleException("webapp " + contextName() + " not started: " + e.getMessage());
        }
        setup.idsAccepted(settings, sample, getJvmRoute());
        setup.noSingleSignOnWithoutSticky(settings);
        if (!valueClassFilterWritten && getSessionAttributeValueClassNameFilter() != null) {
            super.setSessionAttributeValueClassNameFilter(null); // Tomcat's default under a SecurityManager
        }
        applyAttributeFilter(settings.sessionAttributeFilter());
        setup.compatibility(settings, sharesPrincipalWithMsm2());
        formLogins.storeWithSessions(settings.compatibility() != Settings.Compatibility.MSM2);
        setup.report(settings, checks.prefix, getMaxInactiveInterval(), configuredTimeout() != null);
        if (settings.enabled()) {
            // The engine appends node and route itself; the generator gives the random part only.
            getSessionIdGenerator().setJvmRoute(null);
            try {
                engine = SessionEngine.start(settings, checks.writer, checks.readers, checks.prefix, checks.msm2,
                        randomLength, contextName(), Clock.systemUTC());
                // 2.3.2's copies (compatibility="msm2") are Java serialization whatever msm writes its own with.
                storable = settings.compatibility() == Settings.Compatibility.MSM2 ? null : checks.writer::canStore;
            } catch (IOException e) {
                throw new LifecycleException("webapp " + contextName() + " not started: memcachedNodes: "
                        + e.getMessage(), e);
            }
            repairsTakenOver = false;
            try {
                if (settings.sticky()) {
                    engine.claimRoute(getJvmRoute()); // a second Tomcat with this route is told in the log
                }
                installValve(context.getPipeline()); // when the manager was set after the context began to start
                ends.listenTo(context); // its requestDestroyed ends requests after their error page
                requests = settings.sticky() ? new StickyRequests(this, engine, ends)
                        : new NonStickyRequests(this, engine, ends, settings.lockWaitTimeoutMillis(),
                                LoginCheckDoneValve.install(context.getPipeline(), this),
                                // With constraints (annotations add theirs when their servlet loads), the
                                // authenticator needs a login cached by request.login() before the webapp
                                // runs: its lookup loads the session.
                                () -> context.findConstraints().length > 0);
                RequestStrategy mode = requests;
                statisticsBean = StatisticsMBean.register(engine, context, () -> sessions.size(), mode::heldEntries,
                        settings.statisticsEnabled());
                keepKey = checks.prefix + " " + contextName();
                KeptRepairs.takeOver(context.getParent(), keepKey, contextName(), engine);
                repairsTakenOver = true;
                if (settings.sticky()) {
                    KeptSessions.restore(context.getParent(), keepKey, contextName(), engine.sticky(), this,
                            checks::shipped);
                } else {
                    KeptSessions.notTakenBack(context.getParent(), null, contextName(), "the webapp is non-sticky now");
                }
            } catch (RuntimeException | Error e) {
                abandonStart();
                throw e;
            }
        } else {
            KeptSessions.notTakenBack(context.getParent(), null, contextName(), "msm is turned off (enabled=\"false\")");
        }
        setState(LifecycleState.STARTING);
    }

    /** This start took over the repairs the last stop kept ({@link KeptRepairs}); they go back if it fails. */
    private boolean repairsTakenOver;

    /**
     * Ends what a start that failed after its engine started had begun. Tomcat never stops a manager
     * whose start failed, so nothing else would end the engine's threads, which keep this webapp's
     * class loader reachable until the next start.
     */
    private void abandonStart() {
        if (statisticsBean != null) {
            statisticsBean.unregister();
            statisticsBean = null;
        }
        ends.stopListening(context());
        SessionEngine e = engine;
        storable = null;
        engine = null;
        requests = null;
        if (e != null) {
            try {
                e.close();
            } catch (RuntimeException | LinkageError ex) {
                LOG.error("msm for " + contextName() + ": closing the engine of a failed start failed", ex);
            }
            if (repairsTakenOver) {
                // The deletes of logouts a node missed, taken over from the last stop: kept for the next start.
                try {
                    KeptRepairs.keep(context().getParent(), keepKey, contextName(), e);
                } catch (RuntimeException | LinkageError ex) {
                    LOG.error("msm for " + contextName() + ": the deletes a node missed could not be kept", ex);
                }
            }
        }
    }

    /**
     * @return what msm can store (with Kryo, objects that are not Serializable too); null for Tomcat's
     *     own test: while msm is stopped or turned off, and while 2.3.2's copies are written
     */
    java.util.function.Predicate<Object> storable() {
        return storable;
    }

    /** @return false on a Tomcat line whose logins 2.3.2 stored in a form msm does not read or write */
    protected boolean sharesPrincipalWithMsm2() {
        return true;
    }

    /**
     * 2.3.2's {@code sessionAttributeFilter} becomes Tomcat's {@code sessionAttributeNameFilter}, which
     * every snapshot obeys ({@link MemcachedSession#snapshot}): an attribute the operator kept out of
     * memcached stays out.
     */
    private void applyAttributeFilter(java.util.regex.Pattern filter) throws LifecycleException {
        if (filter == null) {
            return;
        }
        String tomcats = getSessionAttributeNameFilter();
        if (tomcats != null && !tomcats.equals(filter.pattern())) {
            throw new LifecycleException("webapp " + contextName() + " not started: sessionAttributeFilter '"
                    + filter.pattern() + "' and sessionAttributeNameFilter '" + tomcats + "' say the same thing"
                    + " differently; keep one of them");
        }
        setSessionAttributeNameFilter(filter.pattern());
    }

    /**
     * memcached-session-manager 2.3.2's {@code maxInactiveInterval}: the timeout of new sessions, in
     * seconds, instead of the webapp's session-timeout. Tomcat 9 and later managers have no such
     * setter, and Tomcat 7's ignores it with a WARN, so every line gets this one (no {@code @Override}:
     * it overrides only Tomcat 7's).
     */
    private volatile Integer maxInactiveInterval;

    public void setMaxInactiveInterval(int seconds) {
        this.maxInactiveInterval = seconds;
    }

    /** @return the timeout written on the {@code <Manager>}, or null: the webapp's session-timeout */
    Integer configuredTimeout() {
        return maxInactiveInterval;
    }

    public int getMaxInactiveInterval() {
        Integer written = maxInactiveInterval;
        Context context = context();
        return written != null ? written : context == null ? 30 * 60 : context.getSessionTimeout() * 60;
    }

    /** @return the webapp this manager serves */
    protected abstract Context context();

    /** The logged-in principal as it is stored; a Tomcat line whose principal cannot be serialized converts it. */
    @Override
    public java.security.Principal principalToStore(java.security.Principal principal) {
        return principal;
    }

    /** The inverse of {@link #principalToStore}. */
    @Override
    public java.security.Principal principalLoaded(java.security.Principal stored) {
        return stored;
    }

    /** FORM logins under way, stored with their sessions. */
    FormLogins formLogins() {
        return formLogins;
    }

    /**
     * Called by the subclass as soon as the manager learns its webapp: puts the valve into the
     * pipeline at before-start, ahead of the authenticator Tomcat adds at configure-start, so that a
     * request's session is moved before anything looks at it.
     */
    protected final void bind(Context context) {
        context.addLifecycleListener(event -> {
            if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
                installValve(context.getPipeline());
            }
        });
    }

    private void installValve(Pipeline pipeline) {
        for (Valve v : pipeline.getValves()) {
            if (v instanceof SessionTrackingValve) {
                return;
            }
        }
        pipeline.addValve(new SessionTrackingValve(this));
    }

    @Override
    protected void stopInternal() throws LifecycleException {
        setState(LifecycleState.STOPPING);
        if (statisticsBean != null) {
            statisticsBean.unregister();
            statisticsBean = null;
        }
        SessionEngine e = engine;
        boolean sticky = requests instanceof StickyRequests;
        ends.stopPuttingOff();
        if (e != null) {
            awaitRequestsInFlight();
            if (sticky) {
                ((StickyRequests) requests).backUpMissingBeforeStop(); // the engine's close awaits them
            }
        }
        ends.stopListening(context()); // and ends what is still put off
        // Only now: a request still running may set a value Kryo stores that is not Serializable, which
        // Tomcat refuses in a distributable webapp without this check (a 500 during a reload).
        storable = null;
        engine = null;
        requests = null;
        if (e != null) {
            java.util.Set<String> nodesDown = new java.util.HashSet<>();
            for (io.msm.core.NodeStatus node : e.nodeStatus()) {
                if (!node.up()) {
                    nodesDown.add(node.id());
                }
            }
            // Queued backups finish first; the sessions stay in memcached for the other Tomcats.
            try {
                e.close();
            } catch (RuntimeException | LinkageError | StackOverflowError ex) {
                // The engine closed what it holds all the same; the stop goes on, so the reload does.
                LOG.error("msm for " + contextName() + ": stopping the engine failed; sessions not stored by now are"
                        + " lost with this stop", ex);
            }
            KeptRepairs.keep(context().getParent(), keepKey, contextName(), e);
            if (sticky) {
                List<MemcachedSession> held = new ArrayList<>();
                for (Session s : sessions.values()) {
                    if (s instanceof MemcachedSession) {
                        held.add((MemcachedSession) s);
                    }
                }
                // A reload keeps the host running; a shutdown stops it first (and a JVM's memory goes with it).
                boolean shuttingDown = !context().getParent().getState().isAvailable();
                KeptSessions.keepUnstored(context().getParent(), keepKey, contextName(), e.sticky(), nodesDown,
                        held, shuttingDown);
            }
            sessions.clear();
        } else {
            expireAll();
        }
        super.stopInternal();
    }

    /**
     * {@code enabled="false"}: sessions live in memory only, and end at stop as with Tomcat's
     * StandardManager without a file. Tomcat keeps this manager over a reload, so they would otherwise
     * outlive it, holding objects of the old webapp's class loader.
     */
    private void expireAll() {
        for (Session s : findSessions()) {
            try {
                if (s.isValid()) {
                    s.expire();
                }
            } catch (StackOverflowError e) { // a listener recursing: as Tomcat's ExceptionUtils, not fatal
                LOG.warn("msm for " + contextName() + ": a session did not end cleanly at stop", e);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable t) { // a listener's Error too, as StandardManager: the stop must go on
                LOG.warn("msm for " + contextName() + ": a session did not end cleanly at stop", t);
            } finally {
                s.recycle();
            }
        }
        sessions.clear();
    }

    /**
     * Tomcat stops a webapp's servlets first, waiting up to the context's {@code unloadDelay} for
     * those in use, then this manager: a request may still be storing its session, or be past that
     * wait altogether. Waiting as long once more lets what it changes reach memcached; whatever still
     * runs after that is named in the log instead of lost silently.
     */
    private void awaitRequestsInFlight() {
        Context context = context();
        long maxMillis = context instanceof StandardContext ? ((StandardContext) context).getUnloadDelay()
                : DEFAULT_UNLOAD_DELAY_MILLIS;
        try {
            long grace = Math.min(maxMillis, PUT_OFF_GRACE_MILLIS);
            long running = inFlight.awaitNone(grace);
            if (running > 0) {
                // Requests past the webapp whose requestDestroyed Tomcat skips as the webapp stops: their
                // put-off ends run here; an error page still rendering after the grace loses its changes.
                ends.runAll();
                running = inFlight.awaitNone(maxMillis - grace);
            }
            if (running > 0) {
                LOG.warn("msm for " + contextName() + ": " + running + " request(s) still running " + maxMillis
                        + " ms after the stop began (the context's unloadDelay); what they change in their"
                        + " sessions from now on is not stored");
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public RequestsInFlight inFlight() {
        return inFlight;
    }

    @Override
    public RequestEnds ends() {
        return ends;
    }

    @Override
    public void load() {
        // Sessions live in memcached; nothing is read from local disk at start.
    }

    @Override
    public void unload() {
        // Nothing is written to local disk at stop: memcached holds the sessions.
    }

    // ---- sessions ----

    @Override
    protected StandardSession getNewSession() {
        return new MemcachedSession(this);
    }

    @Override
    protected String generateSessionId() {
        RequestStrategy r = requests;
        return r == null ? super.generateSessionId() : r.newSessionId(getSessionIdGenerator().generateSessionId(null));
    }

    @Override
    public Session createSession(String sessionId) {
        SessionEngine e = engine;
        if (sessionId != null && e != null && requests != null && e.knownId(sessionId) == null
                && (!context().getValidateClientProvidedNewSessionId() || e.parseId(sessionId) != null)) {
            // With the cookie path "/", Tomcat gives a new session the id the client sent: whatever it is
            // with validateClientProvidedNewSessionId="false", and otherwise when another webapp of the
            // Host holds it, which may have taken it from a client too. One not of the form msm gives here
            // gets a fresh id instead: another form (one naming another key of a session's, "lock:..."), a
            // random part msm never makes (one digit, not hexadecimal), a node not in memcachedNodes. A
            // well-formed id is taken, as Tomcat's own managers take it: shared with the other webapp. So is,
            // when validated, one msm reads no node from at all (another manager's): a fresh id would replace
            // that webapp's cookie (path "/") and its session; msm never stores under it, so it names no key.
            sessionId = null;
        }
        Session session = super.createSession(sessionId); // the timeout: MemcachedSession.setId
        RequestStrategy r = requests;
        if (r != null && session instanceof MemcachedSession) {
            r.created((MemcachedSession) session);
        }
        return session;
    }

    /** See {@link RequestStrategy#changedOutsideRequests}. */
    void changedOutsideRequests(MemcachedSession session, String what) {
        RequestStrategy r = requests;
        if (r != null) {
            r.changedOutsideRequests(session, what);
        }
    }

    /** Looks in memory, then in memcached: a session another Tomcat served is taken over here. */
    @Override
    public Session findSession(String id) throws IOException {
        RequestStrategy r = requests;
        if (r == null || id == null || Boolean.TRUE.equals(ignoring.get())) {
            return super.findSession(id);
        }
        return r.find(id);
    }

    @Override
    public void remove(Session session, boolean update) {
        Session outer = memory.removing.get(); // none: Tomcat's remove calls nothing back
        memory.removing.set(session);
        try {
            super.remove(session, update); // by id, so: this session only (SessionMemory)
        } finally {
            memory.removing.set(outer);
        }
        RequestStrategy r = requests;
        // update is true when the session ended (invalidated or expired), false when it is renamed.
        if (update && r != null && session instanceof MemcachedSession) {
            r.ended((MemcachedSession) session);
        }
    }

    /** Besides Tomcat's expiry, the mode's housekeeping ({@link RequestStrategy#background}). */
    @Override
    public void backgroundProcess() {
        super.backgroundProcess();
        RequestStrategy r = requests;
        if (r == null) {
            return;
        }
        try {
            ends.endAbandoned();
            r.background();
        } catch (RuntimeException ex) {
            LOG.error("msm background task failed; it runs again on the next tick", ex);
        }
    }

    @Override
    public RequestStrategy requests() {
        return requests;
    }

    @Override
    public boolean isIgnored(Request request) {
        SessionEngine e = engine;
        // Without a pattern the URI is not asked for: making its String costs a request that needs none.
        // The decoded URI is the path Tomcat serves: without path parameters (";x.css") and escapes
        // ("%2e"), which would let any page's request look like a static file's.
        return e != null && e.ignoresSomeUris() && e.isIgnored(request.getDecodedRequestURI());
    }

    @Override
    public void ignoreSessionsOnThisThread(boolean ignore) {
        if (ignore) {
            ignoring.set(Boolean.TRUE);
        } else {
            ignoring.remove();
        }
    }

    @Override
    public void rename(Session session, String newId) {
        changeSessionId(session, newId);
    }

    /** A session restored only to fire its listeners for the cluster's idle expiry is not put in memory. */
    @Override
    public void add(Session session) {
        if (!(session instanceof MemcachedSession && ((MemcachedSession) session).isRestoredToExpire())) {
            super.add(session); // else it would take the place of a copy a request is using
        }
    }

    @Override
    public Session inMemory(String id) throws IOException {
        return super.findSession(id);
    }

    @Override
    public SessionId parseId(String id) {
        SessionEngine e = engine;
        return e == null ? SessionId.parse(id) : e.parseId(id);
    }

    @Override
    public MemcachedSession emptySession() {
        return (MemcachedSession) createEmptySession();
    }

    @Override
    public void dropFromMemory(MemcachedSession session) {
        sessions.remove(session.getIdInternal(), session);
    }

    /** For tests and JMX: the engine's counters, or null while stopped or disabled. */
    public io.msm.core.Statistics getStatistics() {
        SessionEngine e = engine;
        return e == null ? null : e.statistics();
    }

    /** @return sessions with a backup, deletion or cluster write waiting or running; 0 when not running */
    public int getBackupQueueLength() {
        SessionEngine e = engine;
        return e == null ? 0 : e.backupQueueLength();
    }

    private String contextName() {
        Context context = context();
        String path = context == null ? "" : context.getName();
        return path.isEmpty() ? "/" : path;
    }
}

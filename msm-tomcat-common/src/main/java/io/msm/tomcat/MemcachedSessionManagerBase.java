package io.msm.tomcat;

import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
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
import org.apache.catalina.session.ManagerBase;
import org.apache.catalina.session.StandardSession;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

import io.msm.core.ConfigurationException;
import io.msm.core.SessionEngine;
import io.msm.core.SessionId;
import io.msm.core.SessionSnapshot;
import io.msm.core.Settings;
import io.msm.core.StorageKeyPrefix;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;

/**
 * Keeps the webapp's sessions in memcached: everything of {@code io.msm.tomcat.MemcachedSessionManager}
 * that is the same on every Tomcat line. Each adapter's subclass holds only how the manager learns
 * its context, which changed from Tomcat 7 (container) to 8.5 (context).
 *
 * Setters only keep the text the operator wrote, because Tomcat turns an exception from a setter
 * into one WARN line and goes on; {@link #startInternal()} validates all of it and stops the webapp
 * with one message listing every bad attribute.
 */
public abstract class MemcachedSessionManagerBase extends ManagerBase {
    private static final Log LOG = LogFactory.getLog(MemcachedSessionManagerBase.class);
    private static final long ALIAS_LIFETIME_MILLIS = 60_000;

    private final Map<String, String> attributes = new ConcurrentHashMap<>();
    /**
     * Old id to new id of sessions msm moved lately, for parallel requests still carrying the old
     * cookie. Only msm's own moves: an id changed at login (session fixation protection) or by the
     * webapp must stop working at once.
     */
    private final Map<String, Alias> aliases = new ConcurrentHashMap<>();
    private final Object[] loadLocks = new Object[64];
    private final ThreadLocal<Boolean> ignoring = new ThreadLocal<>();
    /** The id this request's thread found missing in memcached; Tomcat asks several times per request. */
    private final ThreadLocal<String> missing = new ThreadLocal<>();
    private volatile SessionEngine engine;
    /** Non-sticky mode's request handling; null in sticky mode. */
    private volatile NonStickyRequests nonSticky;
    private StatisticsMBean statisticsBean;

    protected MemcachedSessionManagerBase() {
        for (int i = 0; i < loadLocks.length; i++) {
            loadLocks[i] = new Object();
        }
    }

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

    public void setSerialFilterMode(String v) {
        put(Settings.SERIAL_FILTER_MODE, v);
    }

    public String getSerialFilterMode() {
        return attributes.get(Settings.SERIAL_FILTER_MODE);
    }

    private void put(String name, String value) {
        if (value == null) {
            attributes.remove(name);
        } else {
            attributes.put(name, value);
        }
    }

    // ---- lifecycle ----

    @Override
    protected void startInternal() throws LifecycleException {
        super.startInternal();
        Context context = context();
        Settings settings;
        try {
            settings = Settings.parse(new LinkedHashMap<>(attributes));
        } catch (ConfigurationException e) {
            throw new LifecycleException("webapp " + contextName() + " not started: " + e.getMessage());
        }
        LOG.info("msm for " + contextName() + ": " + settings.describe());
        if (settings.enabled()) {
            // The engine appends node and route itself; the generator gives the random part only.
            getSessionIdGenerator().setJvmRoute(null);
            ClassLoader webapp = context.getLoader() != null ? context.getLoader().getClassLoader()
                    : Thread.currentThread().getContextClassLoader();
            TranscoderContext transcoding = new TranscoderContext(webapp, settings.serialFilter(),
                    settings.serialFilterReportOnly());
            Transcoder writer = Transcoders.create(settings.transcoderFactoryClass(), transcoding);
            List<Transcoder> readers = Transcoders.readers(transcoding);
            String prefix = StorageKeyPrefix.build(settings.storageKeyPrefix(), context.getParent().getName(),
                    context.getName(), context.getWebappVersion());
            try {
                engine = SessionEngine.start(settings, writer, readers, prefix, contextName(), Clock.systemUTC());
            } catch (IOException e) {
                throw new LifecycleException("webapp " + contextName() + " not started: memcachedNodes: "
                        + e.getMessage(), e);
            }
            installValve(context.getPipeline()); // when the manager was set after the context began to start
            if (!settings.sticky()) {
                nonSticky = new NonStickyRequests(this, engine.nonSticky(), settings.lockWaitTimeoutMillis(),
                        LoginCheckDoneValve.install(context.getPipeline(), this));
            }
            if (settings.statisticsEnabled()) {
                statisticsBean = StatisticsMBean.register(engine.statistics(), context);
            }
        }
        setState(LifecycleState.STARTING);
    }

    /** @return the webapp this manager serves */
    protected abstract Context context();

    /** The logged-in principal as it is stored; a Tomcat line whose principal cannot be serialized converts it. */
    protected java.security.Principal principalToStore(java.security.Principal principal) {
        return principal;
    }

    /** The inverse of {@link #principalToStore}. */
    protected java.security.Principal principalLoaded(java.security.Principal stored) {
        return stored;
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
        engine = null;
        nonSticky = null;
        if (e != null) {
            // Queued backups finish first; the sessions stay in memcached for the other Tomcats.
            e.close();
            sessions.clear();
        }
        aliases.clear();
        super.stopInternal();
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
        SessionEngine e = engine;
        if (e == null) {
            return super.generateSessionId();
        }
        // Non-sticky ids carry no route: no Tomcat owns the session, and a balancer must not stick to one.
        return e.newSessionId(getSessionIdGenerator().generateSessionId(null), nonSticky == null ? getJvmRoute() : null);
    }

    @Override
    public Session createSession(String sessionId) {
        Session session = super.createSession(sessionId);
        NonStickyRequests ns = nonSticky;
        if (ns != null && session instanceof MemcachedSession) {
            ns.created((MemcachedSession) session);
        }
        return session;
    }

    /** Looks in memory, then in memcached: a session another Tomcat served is taken over here. */
    @Override
    public Session findSession(String id) throws IOException {
        NonStickyRequests ns = nonSticky;
        if (ns != null && id != null && !Boolean.TRUE.equals(ignoring.get())) {
            return ns.find(id);
        }
        Session session = super.findSession(id);
        SessionEngine e = engine;
        if (session != null || e == null || id == null || Boolean.TRUE.equals(ignoring.get())) {
            return session;
        }
        Alias alias = aliases.get(id);
        if (alias != null) {
            // The alias is made before the rename, which removes the old id and then adds the new one.
            Session moved = super.findSession(alias.newId);
            if (moved == null) {
                moved = super.findSession(id);
            }
            return moved != null ? moved : super.findSession(alias.newId);
        }
        if (id.equals(missing.get())) {
            return null;
        }
        synchronized (loadLocks[(id.hashCode() & 0x7fffffff) % loadLocks.length]) {
            session = super.findSession(id);
            if (session != null) {
                return session;
            }
            MemcachedSession loaded = (MemcachedSession) createEmptySession();
            SessionSnapshot snapshot = e.load(id, loaded.state());
            if (snapshot == null) {
                missing.set(id);
                return null;
            }
            loaded.restore(snapshot);
            return loaded;
        }
    }

    @Override
    public void remove(Session session, boolean update) {
        super.remove(session, update);
        SessionEngine e = engine;
        // update is true when the session ended (invalidated or expired), false when it is renamed.
        if (update && e != null && session instanceof MemcachedSession) {
            MemcachedSession s = (MemcachedSession) session;
            if (e.nonSticky() != null) {
                e.nonSticky().removed(s.getIdInternal(), s.state(), s.getMaxInactiveInterval());
            } else {
                e.removed(s.getIdInternal(), s.state());
            }
        }
    }


    /** Renames the requested session to this Tomcat's route and to a node that is up, with a new cookie. */
    void moveIfNeeded(Request request, String requestedId) {
        SessionEngine e = engine;
        if (e == null || nonSticky != null) {
            return; // non-sticky sessions stay where they are: a backup copy covers their node's loss
        }
        String movedId = e.movedId(requestedId, getJvmRoute());
        if (movedId == null) {
            return;
        }
        Session session = request.getSessionInternal(false);
        if (session == null || !session.getIdInternal().equals(requestedId)) {
            return; // lost, or renamed already by a parallel request
        }
        // Before the rename, so that a parallel request with the old cookie never loads a second copy.
        aliases.put(requestedId, new Alias(movedId, System.currentTimeMillis()));
        changeSessionId(session, movedId);
        request.changeSessionId(movedId);
    }

    /** Hands the session to the engine after a request; a failure is logged, never thrown at the user. */
    void backup(Session session) {
        SessionEngine e = engine;
        if (e == null || !(session instanceof MemcachedSession) || !session.isValid()) {
            return;
        }
        MemcachedSession s = (MemcachedSession) session;
        try {
            boolean changed = !s.changes().isEmpty();
            s.changes().clear();
            if (e.mustCompareNow(s.getIdInternal(), s.state(), changed)) {
                e.afterRequest(s::snapshot, s.state());
            } else {
                e.compareLater(s.state(), () -> backupIfIdle(e, s));
            }
        } catch (RuntimeException ex) {
            LOG.error("backup of session " + SessionId.masked(s.getIdInternal()) + " failed; it stays in memory", ex);
        }
    }

    /**
     * A deferred comparison. A session in use is looked at again shortly: the request using it may
     * be one whose own check has passed already (Tomcat counts it out after the valves returned).
     */
    private void backupIfIdle(SessionEngine e, MemcachedSession s) {
        if (!s.isValid()) {
            return;
        }
        if (s.isInUse()) {
            e.compareLater(s.state(), () -> backupIfIdle(e, s), SessionEngine.CHANGE_WINDOW_MILLIS);
            return;
        }
        e.afterRequest(s::snapshot, s.state());
    }

    boolean isIgnored(String requestUri) {
        SessionEngine e = engine;
        return e != null && e.isIgnored(requestUri);
    }

    /** Called by the valve when a request ends, so the next request on this thread asks memcached again. */
    void requestDone() {
        missing.remove();
    }

    void ignoreSessionsOnThisThread(boolean ignore) {
        if (ignore) {
            ignoring.set(Boolean.TRUE);
        } else {
            ignoring.remove();
        }
    }

    /**
     * Besides Tomcat's expiry, backs up sessions that memcached lacks although their node answers
     * again (created while every node was down), and forgets old aliases.
     */
    @Override
    public void backgroundProcess() {
        super.backgroundProcess();
        SessionEngine e = engine;
        if (e == null) {
            return;
        }
        try {
            if (e.nonSticky() != null) {
                expireInCluster(e);
                return;
            }
            for (Session session : findSessions()) {
                if (session instanceof MemcachedSession && session.isValid()
                        && e.needsBackup(session.getIdInternal(), ((MemcachedSession) session).state())) {
                    backup(session);
                }
            }
            long now = System.currentTimeMillis();
            aliases.values().removeIf(a -> now - a.createdMillis > ALIAS_LIFETIME_MILLIS);
        } catch (RuntimeException ex) {
            LOG.error("msm background task failed; it runs again on the next tick", ex);
        }
    }

    /** Fires sessionDestroyed, once in the whole cluster, for non-sticky sessions idle past their timeout. */
    private void expireInCluster(SessionEngine e) {
        for (SessionSnapshot snapshot : e.nonSticky().claimExpired()) {
            MemcachedSession session = emptySession();
            session.restore(snapshot, false);
            session.expire(); // listeners run, then remove() deletes the keys
        }
    }

    NonStickyRequests nonSticky() {
        return nonSticky;
    }

    Session inMemory(String id) throws IOException {
        return super.findSession(id);
    }

    MemcachedSession emptySession() {
        return (MemcachedSession) createEmptySession();
    }

    /** Drops a session from memory without ending it: memcached keeps it. */
    void dropFromMemory(MemcachedSession session) {
        sessions.remove(session.getIdInternal(), session);
    }

    /** For tests and JMX: the engine's counters, or null while stopped or disabled. */
    public io.msm.core.Statistics getStatistics() {
        SessionEngine e = engine;
        return e == null ? null : e.statistics();
    }

    private String contextName() {
        Context context = context();
        String path = context == null ? "" : context.getName();
        return path.isEmpty() ? "/" : path;
    }

    private static final class Alias {
        final String newId;
        final long createdMillis;

        Alias(String newId, long createdMillis) {
            this.newId = newId;
            this.createdMillis = createdMillis;
        }
    }

}

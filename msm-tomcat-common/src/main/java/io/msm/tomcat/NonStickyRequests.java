package io.msm.tomcat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.apache.catalina.Session;
import org.apache.catalina.connector.Request;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

import io.msm.core.NonStickySessions;
import io.msm.core.SessionId;
import io.msm.core.SessionSnapshot;

/**
 * Non-sticky mode inside one Tomcat: a request that touches its session loads it from memcached
 * (locking it first when the locking mode says so); parallel requests of one session share the
 * loaded copy; the last of them to end stores it and drops it from memory, then the lock is freed.
 * Locking requests of one session inside this Tomcat also take turns on a local permit, so that a
 * lock serializes every request, not only requests on different Tomcats.
 */
final class NonStickyRequests {
    private static final Log LOG = LogFactory.getLog(NonStickyRequests.class);

    /** What one request holds until it ends. */
    static final class Scope {
        final String uri;
        final boolean locking;
        final Request request;
        final List<MemcachedSession> sessions = new ArrayList<>(1);
        final List<Semaphore> permits = new ArrayList<>(1);
        /** Tomcat's authenticator handed the request on: lookups now come from the webapp. */
        boolean loginCheckDone;
        /** Tomcat's authenticator asked for a cached login and was told there is no session. */
        boolean loginLookupSkipped;
        /** An id this request found missing in memcached; Tomcat may ask again within the request. */
        String missing;

        Scope(String uri, boolean locking, Request request) {
            this.uri = uri;
            this.locking = locking;
            this.request = request;
        }

        MemcachedSession find(String id) {
            for (MemcachedSession s : sessions) {
                if (id.equals(s.getIdInternal())) {
                    return s;
                }
            }
            return null;
        }
    }

    private final MemcachedSessionManagerBase manager;
    private final NonStickySessions engine;
    private final long waitMillis;
    private final ThreadLocal<Scope> current = new ThreadLocal<>();
    private final boolean loginCheckMarked;
    private final Semaphore[] permits = new Semaphore[256];
    private final Object[] loadLocks = new Object[64];

    /**
     * @param loginCheckMarked {@link LoginCheckDoneValve} tells each request when Tomcat's
     *     authenticator is done, so its check for a cached login can be answered from memory
     */
    NonStickyRequests(MemcachedSessionManagerBase manager, NonStickySessions engine, long waitMillis,
            boolean loginCheckMarked) {
        this.manager = manager;
        this.loginCheckMarked = loginCheckMarked;
        this.engine = engine;
        this.waitMillis = waitMillis;
        for (int i = 0; i < permits.length; i++) {
            permits[i] = new Semaphore(1, true);
        }
        for (int i = 0; i < loadLocks.length; i++) {
            loadLocks[i] = new Object();
        }
    }

    Scope begin(String uriWithQuery, Request request) {
        Scope scope = new Scope(uriWithQuery, engine.mustLock(uriWithQuery), request);
        current.set(scope);
        return scope;
    }

    /** Called by {@link LoginCheckDoneValve} once Tomcat's authenticator handed the request on. */
    void loginCheckDone() {
        Scope scope = current.get();
        if (scope != null) {
            scope.loginCheckDone = true;
        }
    }

    /** Leaves the request thread; an async request ends later, on another thread. */
    void detach() {
        current.remove();
    }

    /** @return the session for this request, loaded from memcached unless another request here has it */
    Session find(String id) throws IOException {
        Scope scope = current.get();
        if (scope == null) {
            return manager.inMemory(id); // outside a request (JMX, background): memory only
        }
        MemcachedSession mine = scope.find(id);
        if (mine != null) {
            return mine;
        }
        if (SessionId.parse(id) == null || id.equals(scope.missing)) {
            return null;
        }
        // Only the cached-login lookup, which runs while the request has no principal; with single
        // sign-on the authenticator also asks for the session of a user already known, and gets it.
        if (loginCheckMarked && !scope.loginCheckDone
                && (scope.request == null || scope.request.getUserPrincipal() == null)) {
            // Tomcat's authenticator looks for a cached login in the session of every request. A
            // webapp without container login keeps none there (one of request.login() is put on
            // the request when the webapp loads the session), so that alone loads nothing.
            scope.loginLookupSkipped = true;
            return null;
        }
        Semaphore permit = scope.locking ? permits[(id.hashCode() & 0x7fffffff) % permits.length] : null;
        // Held already when this request looked the id up before: waiting for itself would only time out.
        if (permit != null && !scope.permits.contains(permit)) {
            try {
                if (permit.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
                    scope.permits.add(permit);
                } else {
                    LOG.warn("session " + SessionId.masked(id) + " still used by a locking request of this Tomcat"
                            + " after lockWaitTimeout; this request goes on and its changes are merged");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (loadLocks[(id.hashCode() & 0x7fffffff) % loadLocks.length]) {
            Session local = manager.inMemory(id);
            if (local instanceof MemcachedSession && ((MemcachedSession) local).join()) {
                scope.sessions.add((MemcachedSession) local);
                restoreLogin(scope, local);
                return local;
            }
            MemcachedSession loaded = manager.emptySession();
            if (scope.locking) {
                engine.lock(id, loaded.state());
            } else {
                engine.lockSkipped();
            }
            SessionSnapshot snapshot = engine.load(id, loaded.state());
            if (snapshot == null) {
                engine.unlock(loaded.state());
                scope.missing = id;
                return null;
            }
            loaded.restore(snapshot);
            loaded.changes().clear();
            loaded.join();
            scope.sessions.add(loaded);
            restoreLogin(scope, loaded);
            return loaded;
        }
    }

    /** What the skipped authenticator lookup would have done: the session's cached login becomes the request's. */
    private static void restoreLogin(Scope scope, Session session) {
        if (scope.loginLookupSkipped && scope.request != null && scope.request.getPrincipal() == null
                && session.getPrincipal() != null) {
            scope.request.setAuthType(session.getAuthType());
            scope.request.setUserPrincipal(session.getPrincipal());
        }
    }

    /** A session created by this request is this request's until it ends. */
    void created(MemcachedSession session) {
        Scope scope = current.get();
        if (scope != null && session.join()) {
            scope.sessions.add(session);
        }
    }

    /** Stores what the request changed, drops sessions no other request uses, then frees locks. */
    void end(Scope scope) {
        boolean changed = false;
        try {
            for (MemcachedSession s : scope.sessions) {
                if (!s.leave()) {
                    continue;
                }
                try {
                    if (s.isValid()) {
                        changed |= !s.changes().isEmpty();
                        engine.store(s.snapshot(), s.state(), s.changes());
                        s.changes().clear();
                    }
                } catch (RuntimeException e) {
                    LOG.error("storing session " + SessionId.masked(s.getIdInternal()) + " failed", e);
                } finally {
                    manager.dropFromMemory(s);
                    engine.unlock(s.state());
                }
            }
        } finally {
            for (Semaphore permit : scope.permits) {
                permit.release();
            }
            engine.learn(scope.uri, changed);
        }
    }
}

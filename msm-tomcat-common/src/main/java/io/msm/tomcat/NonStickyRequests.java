package io.msm.tomcat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.servlet.ServletException;

import org.apache.catalina.Session;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.juli.logging.Log;

import io.msm.core.NonStickySessions;
import io.msm.core.OncePerMinute;
import io.msm.core.SessionChanges;
import io.msm.core.SessionEngine;
import io.msm.core.SessionId;
import io.msm.core.SessionSnapshot;

/**
 * Non-sticky mode inside one Tomcat: a request that touches its session loads it from memcached
 * (locking it first when the locking mode says so); parallel requests of one session share the
 * loaded copy; the last of them to end stores it and drops it from memory, then the lock is freed.
 * One during which it changed stores it at its end too, while others still run: a download does not
 * hold a form's change back.
 * Locking requests of one session inside this Tomcat also take turns on a local permit, so that a
 * lock serializes every request, not only requests on different Tomcats.
 */
final class NonStickyRequests implements RequestStrategy {
    private static final Log LOG = TomcatLogs.get(NonStickyRequests.class);

    /** What one request holds until it ends. */
    static final class Scope {
        final String method;
        final String uri;
        final boolean locking;
        final Request request;
        final List<MemcachedSession> sessions = new ArrayList<>(1);
        /** Per session, at the same index: the changes recorded when this request joined it. */
        final List<Long> recordedAtJoin = new ArrayList<>(1);
        /**
         * Per session, at the same index: the turn whose permit this request holds while it uses that
         * copy as the one under the cluster lock, or null.
         */
        final List<SessionTurns.Turn> lockedUnder = new ArrayList<>(1);
        /** The turn of every session id this request looked up, left when it ends. */
        final List<SessionTurns.Turn> turns = new ArrayList<>(1);
        /** Turns whose permit this request holds: locking requests of one session run one at a time. */
        final List<SessionTurns.Turn> permits = new ArrayList<>(1);
        /** Tomcat's authenticator handed the request on: lookups now come from the webapp. */
        boolean loginCheckDone;
        /** Tomcat's authenticator asked for a cached login and was told there is no session. */
        boolean loginLookupSkipped;
        /** An id this request found missing in memcached; Tomcat may ask again within the request. */
        String missing;
        /** Set by {@link #end}: lookups on the thread no longer belong to this request. */
        volatile boolean ended;
        /** An error page's: its URI is the failed request's, which it teaches lockingMode="auto" nothing about. */
        boolean failed;
        /** Its session cookies were looked at ({@link SessionCookies}): done at its first lookup of the requested id. */
        boolean cookiesChecked;

        Scope(String method, String uri, boolean locking, Request request) {
            this.method = method;
            this.uri = uri;
            this.locking = locking;
            this.request = request;
        }

        /** @param lockedUnder see {@link #lockedUnder} */
        void join(MemcachedSession session, SessionTurns.Turn lockedUnder) {
            sessions.add(session);
            recordedAtJoin.add(session.changes().recorded());
            this.lockedUnder.add(lockedUnder);
        }

        /** @return true when a change of the i-th session was recorded since this request joined it, by any request */
        boolean changedMeanwhile(int i) {
            return sessions.get(i).changes().recorded() != recordedAtJoin.get(i);
        }

        MemcachedSession find(String id) {
            for (MemcachedSession s : sessions) {
                if (id.equals(s.getIdInternal())) {
                    return s;
                }
            }
            return null;
        }

        SessionTurns.Turn turn(String id, SessionTurns all) {
            for (SessionTurns.Turn t : turns) {
                if (t.id.equals(id)) {
                    return t;
                }
            }
            SessionTurns.Turn t = all.enter(id);
            turns.add(t);
            return t;
        }
    }

    private final LocalSessions manager;
    private final SessionEngine ids;
    private final NonStickySessions engine;
    private final long waitMillis;
    private final RequestEnds ends;
    private final ThreadLocal<Scope> current = new ThreadLocal<>();
    private final boolean loginCheckMarked;
    /** True while the webapp has security constraints: their check needs the cached login. */
    private final java.util.function.BooleanSupplier constrained;
    private final SessionTurns turns = new SessionTurns();
    /**
     * Locking requests of one session that wait at once, for its turn or for the lock. A browser
     * sends a few in parallel; a client sending hundreds with one cookie would hold as many of
     * Tomcat's threads, each up to lockWaitTimeout. Those past this many go on at once, as requests
     * that do not lock (see load): they share a copy in memory, and their changes are merged.
     */
    static final int MAX_WAITING_PER_SESSION = 16;
    /**
     * Session cookies of one request that are looked up in memcached, in the order sent: one per
     * webapp path above this one that sets a cookie of the same name (a browser sends two, seldom
     * three); a client sending a hundred gets the first three read, then Tomcat's own choice.
     */
    static final int MAX_SESSION_COOKIES = 3;
    /** A request note: the request's session cookies were looked at; Tomcat clears it with the request. */
    private static final String COOKIES_CHECKED = "io.msm.sessionCookiesChecked";
    /** What a client can cause at will (waits that time out) is logged at most once a minute. */
    private final OncePerMinute logLimit = new OncePerMinute(java.time.Clock.systemUTC());

    @Override
    public void heldEntries(java.util.Map<String, Integer> held) {
        held.put("SessionTurns", turns.inUse());
    }

    /**
     * @param loginCheckMarked {@link LoginCheckDoneValve} tells each request when Tomcat's
     *     authenticator is done, so its check for a cached login can be answered from memory
     */
    NonStickyRequests(LocalSessions manager, SessionEngine engine, RequestEnds ends, long waitMillis,
            boolean loginCheckMarked, java.util.function.BooleanSupplier constrained) {
        this.ends = ends;
        this.constrained = constrained;
        this.manager = manager;
        this.loginCheckMarked = loginCheckMarked;
        this.ids = engine;
        this.engine = engine.nonSticky();
        this.waitMillis = waitMillis;
    }

    @Override
    public void invoke(Request request, Response response, Valve next) throws IOException, ServletException {
        boolean asyncAtStart = request.isAsync();
        Scope scope = newScope(request, true);
        current.set(scope);
        Throwable thrown = null;
        try {
            next.invoke(request, response);
        } catch (Throwable t) {
            thrown = t;
            throw t;
        } finally {
            boolean errorPage = ends.errorPageMayFollow(request, response, asyncAtStart, thrown);
            // Tomcat keeps the session the request used for its error page: that copy must stay this
            // request's, in memory, until the page is done, or what the page changes is lost.
            if (errorPage && !scope.sessions.isEmpty() && ends.putOff(request, () -> endOnThisThread(scope))) {
                scope.loginCheckDone = true; // the authenticator is behind: lookups now are the error page's
                scope.failed = true;
                storeBeforeErrorPage(scope);
            } else {
                current.remove(); // an async request ends later, on another thread
                AsyncEnd.whenDone(request, () -> end(scope));
                if (errorPage) {
                    ends.errorPageFollows(request, scope.loginLookupSkipped);
                }
            }
        }
    }

    /**
     * Tomcat sends the error page's answer before it says the request is destroyed: what the failing
     * request changed is stored now, before the answer, as for any request. The lock stays held until
     * the page's end stores what the page changed, right after the answer.
     */
    private void storeBeforeErrorPage(Scope scope) {
        for (MemcachedSession s : scope.sessions) {
            storeWhileInUse(s, InUseStore.BEFORE_ERROR_PAGE);
        }
    }

    private static String uriOf(Request request) {
        String query = request.getQueryString();
        // The path Tomcat serves, as for requestUriIgnorePattern: ";x" or an escape must not change the mode.
        String path = request.getDecodedRequestURI();
        return query == null ? path : path + "?" + query;
    }

    /** @param lockable false: the request locks nothing, whatever lockingMode says of its URI */
    private Scope newScope(Request request, boolean lockable) {
        String method = request.getMethod();
        String uri = uriOf(request);
        return new Scope(method, uri, lockable && engine.mustLock(method, uri), request);
    }

    /**
     * An ignored URI's request loads nothing. Its error page, as that of a request that used no
     * session, becomes a request of its own at its first lookup ({@link #errorPageScope}): it loads
     * the session without a lock, as a request that does not lock, and its changes are merged into
     * whatever memcached holds by then, right after the answer (Tomcat answers before it says the
     * request is destroyed). Without this, the page's {@code getSession()} would make a new session
     * and log the user out.
     */
    @Override
    public void errorPageOfIgnored(Request request) {
        ends.errorPageFollows(request, false);
    }

    /** @return a scope for the error page running on this thread now, or null when none runs */
    private Scope errorPageScope() {
        RequestEnds.ErrorPage page = ends.errorPageOfThisThread();
        if (page == null) {
            return null;
        }
        Scope scope = newScope(page.request, false);
        scope.loginCheckDone = true; // the authenticator is behind: lookups now are the error page's
        scope.loginLookupSkipped = page.loginLookupSkipped; // its cached login becomes the request's, as there
        scope.failed = true;
        scope.cookiesChecked = page.request.getNote(COOKIES_CHECKED) != null;
        if (!ends.putOff(page.request, () -> endOnThisThread(scope))) {
            return null; // the manager is stopping
        }
        current.set(scope);
        return scope;
    }

    /** The end of a request whose error page ran on its thread; or at stop, on the stopping thread. */
    private void endOnThisThread(Scope scope) {
        if (current.get() == scope) {
            current.remove();
        }
        end(scope);
    }

    @Override
    public String newSessionId(String random) {
        // No route: no Tomcat owns the session, and a balancer must not stick to one.
        return ids.newSessionId(random, null);
    }

    @Override
    public void loginCheckDone() {
        Scope scope = current.get();
        if (scope != null) {
            scope.loginCheckDone = true;
        }
    }

    /** @return the session for this request, loaded from memcached unless another request here has it */
    @Override
    public Session find(String id) throws IOException {
        Scope scope = current.get();
        if (scope == null || scope.ended) {
            scope = errorPageScope();
        }
        if (scope == null) {
            return manager.inMemory(id); // outside a request (JMX, background): memory only
        }
        if (!scope.cookiesChecked && scope.request != null && id.equals(scope.request.getRequestedSessionId())
                && !skipsLoginLookup(scope)) {
            scope.cookiesChecked = true;
            scope.request.setNote(COOKIES_CHECKED, Boolean.TRUE); // its error page has the request's choice
            String[] cookieIds = SessionCookies.ifSeveral(scope.request);
            if (cookieIds != null) {
                return firstOfTheCookies(scope, id, cookieIds);
            }
        }
        return findInScope(scope, id);
    }

    /**
     * Tomcat's choice among several session cookies, made here: the first whose session is found
     * becomes the request's. Tomcat took the last, which with a webapp at "/" is usually that one's.
     */
    private Session firstOfTheCookies(Scope scope, String requested, String[] candidates) throws IOException {
        int tried = 0;
        boolean requestedMissing = false;
        for (String candidate : candidates) {
            if (ids.knownId(candidate) == null) {
                continue; // another manager's id, or none at all: nothing to read
            }
            if (++tried > MAX_SESSION_COOKIES) {
                break; // a client's many cookies must not cost memcached a read each
            }
            Session found = findInScope(scope, candidate);
            if (found != null) {
                if (!candidate.equals(requested)) {
                    scope.request.setRequestedSessionId(candidate);
                }
                return found;
            }
            requestedMissing |= candidate.equals(requested);
            leaveTurn(scope, candidate); // no session: another request with this cookie need not wait for this one
        }
        if (requestedMissing) {
            scope.missing = requested; // Tomcat asks for it again within the request
            return null;
        }
        return findInScope(scope, requested); // Tomcat's choice, past the ones read: read as without the others
    }

    /** Gives back the turn of an id found missing, and its permit when the request took it. */
    private void leaveTurn(Scope scope, String id) {
        for (java.util.Iterator<SessionTurns.Turn> it = scope.turns.iterator(); it.hasNext();) {
            SessionTurns.Turn turn = it.next();
            if (turn.id.equals(id)) {
                if (scope.permits.remove(turn)) {
                    turn.permit.release();
                }
                it.remove();
                turns.leave(turn);
                return;
            }
        }
    }

    /** Tomcat's authenticator looks for a cached login before the webapp runs: see {@link #findInScope}. */
    private boolean skipsLoginLookup(Scope scope) {
        return loginCheckMarked && !scope.loginCheckDone
                && (scope.request == null || scope.request.getUserPrincipal() == null) && !constrained.getAsBoolean();
    }

    private Session findInScope(Scope scope, String id) throws IOException {
        MemcachedSession mine = scope.find(id);
        if (mine != null) {
            // Invalidated in this request: gone, as from StandardManager. Tomcat asks whether the id is
            // in use before it gives a new session the client's id (sessionCookiePath="/"); a yes would
            // hand a login the id from before it (session fixation) and reuse an id with markers.
            return mine.isEnding() ? null : mine;
        }
        if (id.equals(scope.missing)) {
            return null;
        }
        // Only the cached-login lookup, which runs while the request has no principal; with single
        // sign-on the authenticator also asks for the session of a user already known, and gets it.
        // Whatever the id: the session the request ends up with (another of its cookies) gets the login.
        if (skipsLoginLookup(scope)) {
            // Tomcat's authenticator looks for a cached login in the session of every request. A
            // webapp without container login keeps none there (one of request.login() is put on
            // the request when the webapp loads the session), so that alone loads nothing.
            scope.loginLookupSkipped = true;
            return null;
        }
        SessionId sid = ids.knownId(id);
        if (sid == null) {
            scope.missing = id; // checked once per request: Tomcat looks the id up again
            return null;
        }
        SessionTurns.Turn turn = scope.turn(id, turns);
        // Held already when this request looked the id up before: waiting for itself would only time out.
        if (!scope.locking || scope.permits.contains(turn)) {
            return load(scope, id, sid, turn, scope.locking);
        }
        if (turn.waiting.incrementAndGet() > MAX_WAITING_PER_SESSION) {
            turn.waiting.decrementAndGet();
            if (logLimit.allow("too many waiting")) {
                LOG.warn("session " + SessionId.masked(id) + " has " + MAX_WAITING_PER_SESSION + " locking requests"
                        + " waiting for their turn or for the lock already; a further one goes on at once, as a"
                        + " request that does not lock, and its changes are merged; this line repeats at most once"
                        + " a minute");
            }
            return load(scope, id, sid, turn, false);
        }
        try {
            // Without its turn after lockWaitTimeout, it does not lock: the request holding the turn
            // may be waiting for another Tomcat's lock, and this one would then wait for its own Tomcat.
            return load(scope, id, sid, turn, waitForPermit(scope, id, turn));
        } finally {
            turn.waiting.decrementAndGet();
        }
    }

    /** @return true when the request got the session's turn, false when it goes on without */
    private boolean waitForPermit(Scope scope, String id, SessionTurns.Turn turn) {
        try {
            if (turn.permit.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
                scope.permits.add(turn);
                return true;
            }
            if (logLimit.allow("turn timeout")) {
                LOG.warn("session " + SessionId.masked(id) + " still used by a locking request of this"
                        + " Tomcat after lockWaitTimeout; this request goes on without the lock and its changes are"
                        + " merged; this line repeats at most once a minute");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /**
     * Joins the copy in memory, or loads it. A request that does not lock (and one past the waiting
     * cap, or without its turn after lockWaitTimeout) joins any copy; the first of parallel ones
     * loads it without the lock, the others wait for that read under the turn's monitor and join.
     * A locking request never joins a copy loaded without the lock: it could be older than what
     * another Tomcat stores under the lock. It loads its own with the lock, outside the monitor,
     * because taking the lock can wait lockWaitTimeout for another Tomcat: the requests behind it
     * keep going meanwhile (readers and those past the cap on a copy without the lock, other
     * writers of this Tomcat at the permit). Its copy then replaces theirs in memory, and what
     * comes after joins it.
     */
    private MemcachedSession load(Scope scope, String id, SessionId sid, SessionTurns.Turn turn, boolean locking)
            throws IOException {
        int endsBefore;
        // A copy left idle past its timeout by a long request here: the cluster may have ended the
        // session since, so a load decides. Even one that holds the lock: memcached let that go after
        // lockExpiration, long before.
        MemcachedSession idle = null;
        synchronized (turn) {
            Session local = manager.inMemory(id);
            if (local instanceof MemcachedSession) {
                MemcachedSession shared = (MemcachedSession) local;
                if (shared.isIdlePastTimeout(System.currentTimeMillis())) {
                    idle = shared;
                } else if (!(locking && shared.isLoadedUnlocked()) && shared.join()) {
                    return joined(scope, shared, locking ? turn : null);
                }
            }
            endsBefore = turn.ends.get();
            if (!locking) {
                MemcachedSession loaded = manager.emptySession();
                SessionSnapshot snapshot = engine.open(sid, loaded.state(), false);
                if (snapshot != null && idle != null) {
                    idle.replaced(id); // its requests end on it; unchanged, it writes nothing over the newer copy
                }
                return adopt(scope, turn, endsBefore, loaded, snapshot, false);
            }
        }
        MemcachedSession loaded = manager.emptySession();
        SessionSnapshot snapshot = engine.open(sid, loaded.state(), true);
        synchronized (turn) {
            Session current = manager.inMemory(id);
            if (snapshot != null && current instanceof MemcachedSession
                    && (((MemcachedSession) current).isLoadedUnlocked() || current == idle)) {
                // Its requests end on it; unchanged, it stores nothing over the newer copy (see end).
                ((MemcachedSession) current).replaced(id);
            }
            return adopt(scope, turn, endsBefore, loaded, snapshot, true);
        }
    }

    /**
     * Puts a copy just loaded in memory for this request; null when there was nothing to load, or
     * when a logout in this Tomcat ended the session while the read was on its way.
     *
     * @param endsBefore the session's logouts counted before the read ({@link #endOtherCopies})
     * @param locked false for a copy read without the lock: a locking request does not join it
     */
    private MemcachedSession adopt(Scope scope, SessionTurns.Turn turn, int endsBefore, MemcachedSession loaded,
            SessionSnapshot snapshot, boolean locked) {
        if (snapshot == null) {
            scope.missing = turn.id;
            return null;
        }
        loaded.restore(snapshot); // in memory from here
        loaded.clearChangesAfterLoad();
        loaded.loadedUnlocked(!locked);
        // Checked once in memory: a logout either counted before this check, or finds this copy
        // in memory after its count and ends it.
        if (turn.ends.get() != endsBefore) {
            loaded.setValid(false);
            manager.dropFromMemory(loaded);
            engine.release(loaded.state());
            scope.missing = turn.id;
            return null;
        }
        loaded.join();
        return joined(scope, loaded, locked ? turn : null);
    }

    /** The request uses the session until it ends; see {@link #end}. */
    private static MemcachedSession joined(Scope scope, MemcachedSession session, SessionTurns.Turn lockedUnder) {
        scope.join(session, lockedUnder);
        restoreLogin(scope, session);
        return session;
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
    @Override
    public void created(MemcachedSession session) {
        Scope scope = current.get();
        if (scope == null || scope.ended) {
            scope = errorPageScope(); // a new session of an error page: stored at the page's end
        }
        if (scope != null && session.join()) {
            scope.join(session, null);
        } else if (scope == null && logLimit.allow("created outside requests")) {
            LOG.warn("session " + SessionId.masked(session.getIdInternal()) + " was created outside any request"
                    + " (a job, an @Async method, AsyncContext.start): non-sticky mode stores a session only at"
                    + " the end of a request that uses it, so this one stays in this Tomcat's memory alone and its"
                    + " user gets a new session on another Tomcat; create sessions within requests, or run this"
                    + " webapp with sticky=\"true\" (logged at most once a minute)");
        }
    }

    @Override
    public void changedOutsideRequests(MemcachedSession session, String what) {
        if (logLimit.allow("changed outside requests")) {
            LOG.warn(what + " of session " + SessionId.masked(session.getIdInternal())
                    + " was changed outside any request (a job, an @Async method, a WebSocket holding the"
                    + " HttpSession): non-sticky mode stores a session only at the end of a request that uses it,"
                    + " so this change is lost; make it within a request, or run this webapp with sticky=\"true\""
                    + " (logged at most once a minute)");
        }
    }

    /** Stores what the request changed, drops sessions no other request uses, then frees locks. */
    void end(Scope scope) {
        scope.ended = true;
        // A change a parallel request made meanwhile counts too, also one a store of the shared copy took.
        boolean changed = false;
        for (int i = 0; i < scope.sessions.size(); i++) {
            MemcachedSession s = scope.sessions.get(i);
            changed |= !s.isValid() || !s.changes().isEmpty() || scope.changedMeanwhile(i);
        }
        try {
            for (int i = 0; i < scope.sessions.size(); i++) {
                MemcachedSession s = scope.sessions.get(i);
                if (!s.leave()) {
                    SessionTurns.Turn lockedUnder = scope.lockedUnder.get(i);
                    if (lockedUnder != null && lockedUnder.waiting.get() == 0) {
                        // The others do not lock (a download, a long poll, maybe for minutes): the user's
                        // next locking request, on any Tomcat, must not wait for them. A locking request
                        // of this Tomcat already waiting takes the lock over instead, without a round trip.
                        storeWhileInUse(s, InUseStore.BEFORE_UNLOCK);
                    } else {
                        if (scope.changedMeanwhile(i)) {
                            // Others still use it, a download maybe for minutes: the change must not wait for them.
                            storeShared(s);
                        }
                        recordSharedAccess(s); // when that store wrote no record (nothing new, or equal values)
                    }
                    continue;
                }
                try {
                    synchronized (s.storeLock()) { // after a store of the shared session still on its way
                        // A copy replaced by a locking request's (see load) writes only what it changed:
                        // its validity record would carry older content's timeout over the newer copy's.
                        if (s.isValid() && s.sessionId() != null && !s.isReplacedUnchanged()) {
                            engine.store(s.snapshot(), s.state(), s.changes());
                            s.changes().clear();
                        }
                    }
                } catch (RuntimeException | LinkageError | StackOverflowError e) {
                    // As the other stores: one session's failure must not keep the others' stores and locks.
                    LOG.error("storing session " + SessionId.masked(s.getIdInternal()) + " failed; its request's"
                            + " changes are lost, and memcached keeps the copy before them", e);
                } finally {
                    manager.dropFromMemory(s);
                    engine.release(s.state());
                }
            }
        } finally {
            for (SessionTurns.Turn turn : scope.permits) {
                turn.permit.release();
            }
            for (SessionTurns.Turn turn : scope.turns) {
                turns.leave(turn);
            }
            learn(scope, changed);
            // A stop may run this for another thread, whose reference to the scope stays: it holds nothing then.
            scope.sessions.clear();
            scope.recordedAtJoin.clear();
            scope.lockedUnder.clear();
        }
    }

    /**
     * At the end of a request that changed nothing while parallel requests here still use the session
     * (a long poll, a download): its access is recorded in memcached when due. Without it, the user's
     * clicks that all join this copy would leave the record as the copy's load wrote it, and the
     * cluster's expiry would end the session while the user works.
     */
    private void recordSharedAccess(MemcachedSession s) {
        // The request ends now: as Tomcat counts it, and never older than what another Tomcat recorded
        // meanwhile for a request of its own that began after this one.
        long now = System.currentTimeMillis();
        if (!engine.isAccessDue(s.getMaxInactiveInterval(), now, s.state())) {
            return; // most ends: not worth waiting behind another request's store for the lock below
        }
        synchronized (s.storeLock()) {
            if (s.isEnding() || s.isDropped() || s.sessionId() == null || s.isReplacedUnchanged()) {
                return;
            }
            try {
                engine.accessedWhileShared(s.sessionId(), s.getMaxInactiveInterval(), now, s.state());
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                // As the stores: the other sessions of the request still leave memory and release their locks.
                LOG.warn("recording an access to session " + SessionId.masked(s.getIdInternal()) + " failed: " + e);
            }
        }
    }

    /**
     * At the end of a request during which the session changed, while parallel requests here still
     * use it: stored before the answer goes out, as when the request is alone, so that the next
     * request, on any Tomcat, finds the change (a login, a form). Nothing once the last of them has
     * left, since its end stores.
     */
    private void storeShared(MemcachedSession s) {
        storeWhileInUse(s, InUseStore.PARALLEL);
    }

    /**
     * Stored at once, before the webapp runs the replayed request: a reload of the page that reaches
     * another Tomcat meanwhile would find the login under way there and send the form again. Under
     * the lock too: a reload may not wait for it (a page another Tomcat learned read-only, a wait past
     * lockWaitTimeout). Its end stores as usual.
     */
    @Override
    public void formLoginReplayed(MemcachedSession session) {
        storeWhileInUse(session, InUseStore.PARALLEL);
    }

    /** Why a session that requests still use is stored: see {@link #storeWhileInUse}. */
    private enum InUseStore {
        /**
         * A parallel request ended that changed it through the API ({@link #storeShared}), or a FORM
         * login's replay began ({@link #formLoginReplayed}).
         */
        PARALLEL,
        /** The failed request's own store, before its error page ({@link #storeBeforeErrorPage}). */
        BEFORE_ERROR_PAGE,
        /**
         * The request that holds the cluster lock ended, and requests that do not lock still use the
         * copy: it is stored whole, values changed in place included, then its lock is freed and the
         * copy counts as read without the lock. Freed only when memcached holds the copy: another
         * Tomcat's locked request would load an older one. Unchanged, nothing is written.
         */
        BEFORE_UNLOCK
    }

    /**
     * Stores a session that a request still uses here: a parallel one ({@link #storeShared}), the
     * failed request's own error page ({@link #storeBeforeErrorPage}), or requests that do not lock
     * ({@link InUseStore#BEFORE_UNLOCK}).
     *
     * @param why {@link InUseStore#BEFORE_ERROR_PAGE} for the failed request's store: made whatever it
     *     changed (a session it made, a value changed in place), and when it alone uses the session and
     *     the node holds the write as written, its changes are done: the page's end merges only what
     *     came after
     */
    private void storeWhileInUse(MemcachedSession s, InUseStore why) {
        synchronized (s.storeLock()) {
            if (s.isEnding() || s.isDropped() || s.sessionId() == null || s.isReplacedUnchanged()) {
                return; // a logout frees the lock itself; the others keep it for the last request's end
            }
            long recorded = s.changes().recorded();
            if (why == InUseStore.PARALLEL && recorded == s.recordedAtSharedStore()) {
                return; // nothing changed through the API since the last such store
            }
            try {
                // All changes since the load, kept for the last store in case this one misses the session's
                // node; once one reaches it, later merges apply only what came after (SessionChanges.copy).
                // Copied before the snapshot: a name set meanwhile is in the snapshot, never only in the list.
                SessionChanges changes = s.changes().copy();
                if (why == InUseStore.PARALLEL) {
                    if (engine.storeShared(s.snapshot(), s.state(), changes)) {
                        s.recordedAtSharedStore(recorded);
                    }
                } else if (why == InUseStore.BEFORE_UNLOCK) {
                    // Done, or kept: a change merged again later would undo what another Tomcat changed
                    // under the lock meanwhile.
                    if (engine.storeAsWritten(s.snapshot(), s.state(), changes)
                            && s.changes().clearIfUnchangedSince(changes.recorded())) {
                        s.recordedAtSharedStore(recorded);
                        unlockShared(s, changes.recorded());
                    }
                } else if (engine.storeAsWritten(s.snapshot(), s.state(), changes)) {
                    s.recordedAtSharedStore(recorded);
                    if (s.isOnlyUser()) {
                        // The copy's count: the snapshot came after it.
                        s.changes().clearIfUnchangedSince(changes.recorded());
                    }
                }
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                String masked = SessionId.masked(s.getIdInternal());
                LOG.error("storing session " + masked + (why == InUseStore.BEFORE_ERROR_PAGE
                        ? " before its error page failed; the error page's end stores it"
                        : ", which requests still running share, failed; the last of them stores it"), e);
            }
        }
    }

    /**
     * Frees the lock of a copy whose changes are done ({@link InUseStore#BEFORE_UNLOCK}). Under the
     * session's monitor, which Tomcat's expire() holds through a logout's listeners and the deletes:
     * another Tomcat must not load a session being logged out. Kept when a change through the API
     * came meanwhile or is under way: it belongs to the lock's holder's copy.
     */
    private void unlockShared(MemcachedSession s, long recorded) {
        boolean free;
        synchronized (s) {
            free = !s.isEnding() && !s.isExpiring() && s.isQuietSince(recorded);
            if (free) {
                s.loadedUnlocked(true); // a locking request loads its own copy, under the lock
            }
        }
        if (free) {
            // Outside the monitor: with the text protocol a release is a round trip, and requests joining
            // the copy take the monitor. A logout that begins meanwhile frees the lock itself as well.
            engine.release(s.state());
        }
    }

    /**
     * {@code lockingMode="auto"} learns a URI as read-only only from requests that had a session,
     * left it unchanged and succeeded (2xx): a request without a session, or one redirected (to a
     * login page), refused (401, 403) or failed, says nothing about what the URI does to a session
     * of a user allowed there, and anyone can send those.
     */
    private void learn(Scope scope, boolean changed) {
        if (changed) {
            engine.learn(scope.method, scope.uri, true);
            return;
        }
        // A failed request's response may be recycled by the time a stop ends it: its status says nothing then.
        if (scope.failed || scope.sessions.isEmpty()) {
            return;
        }
        int status = scope.request == null || scope.request.getResponse() == null ? 200
                : scope.request.getResponse().getStatus();
        if (status >= 200 && status < 300) {
            engine.learn(scope.method, scope.uri, false);
        }
    }

    @Override
    public void ended(MemcachedSession session) {
        session.ending(); // a store of the shared copy not begun yet does not begin
        SessionId id = session.sessionId();
        if (id != null) {
            engine.removed(id, session.state(), session.getMaxInactiveInterval());
        }
        if (!session.isRestoredToExpire()) {
            endOtherCopies(session);
        }
    }

    /**
     * After a logout, once memcached holds no copy of the session ({@code removed} waits for that,
     * bounded): no other copy of it in this Tomcat may go on as the live one, as none does in a
     * Tomcat that holds one copy. The one in memory ends: its requests find it invalid, and it is
     * stored no more. A load on its way drops what it read ({@link #adopt}). Not after the
     * cluster's idle expiry: a request that loaded the session meanwhile goes on, and its store
     * finds the removal. Takes no monitor: Tomcat's expire() holds the session's.
     */
    private void endOtherCopies(MemcachedSession ended) {
        String id = ended.getIdInternal();
        SessionTurns.Turn turn = turns.inUse(id);
        if (turn != null) {
            turn.ends.incrementAndGet(); // before the look in memory: a copy put there later sees it
        }
        try {
            Session listed = id == null ? null : manager.inMemory(id);
            if (listed instanceof MemcachedSession && ((MemcachedSession) listed).isCopyOf(ended)) {
                listed.setValid(false);
                manager.dropFromMemory((MemcachedSession) listed);
            }
        } catch (IOException e) {
            throw new IllegalStateException("the manager's memory is a map: it does not read", e);
        }
    }

    /**
     * Fires sessionDestroyed, once in the whole cluster, for sessions idle past their timeout. Each
     * claimed session ends even when another's listener throws: the claim keeps every other Tomcat
     * from ending it, and it is off the watch list already.
     */
    @Override
    public void background() {
        for (SessionSnapshot snapshot : engine.claimExpired()) {
            MemcachedSession session = manager.emptySession();
            try {
                session.restore(snapshot, false);
                session.expire(); // listeners run, then remove() deletes the keys
            } catch (StackOverflowError e) { // a listener recursing: as Tomcat's ExceptionUtils, not fatal
                expiryFailed(snapshot, e);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable t) { // a valueUnbound's, which Tomcat does not catch; as StandardManager, go on
                expiryFailed(snapshot, t);
            }
        }
    }

    private void expiryFailed(SessionSnapshot snapshot, Throwable t) {
        if (logLimit.allow("expiry failed")) {
            LOG.warn("session " + snapshot.id().masked() + " did not end cleanly at its idle expiry (its copy did"
                    + " not load, or a listener or an attribute's valueUnbound failed); the other sessions due end as"
                    + " usual; this line repeats at most once a minute", t);
        }
    }
}

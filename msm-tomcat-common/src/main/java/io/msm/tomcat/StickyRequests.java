package io.msm.tomcat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.servlet.ServletException;

import org.apache.catalina.Session;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.juli.logging.Log;

import io.msm.core.OncePerMinute;
import io.msm.core.SessionEngine;
import io.msm.core.SessionId;
import io.msm.core.SessionSnapshot;
import io.msm.core.StickySessions;

/**
 * Sticky mode inside one Tomcat: sessions live in memory. Before a request its session is moved to
 * this Tomcat's route and to a memcached node that is up; a session this Tomcat does not hold is
 * taken over from memcached; after the request the session is handed to the engine for backup.
 */
final class StickyRequests implements RequestStrategy {
    private static final Log LOG = TomcatLogs.get(StickyRequests.class);
    /**
     * A session whose requests all began longer ago than this has what was changed meanwhile stored by
     * the background run, not only at their end: a stream or a long poll may stay open for hours.
     */
    static final long LONG_REQUEST_MILLIS = 10_000;
    /** How often a copy in use here is checked for a takeover elsewhere: one memcached read a minute. */
    static final long CHECK_TAKEOVER_EVERY_MILLIS = 60_000;
    /** The same, for a copy idle past its timeout that Tomcat is about to end. */
    private static final long CHECK_TAKEOVER_BEFORE_EXPIRY_MILLIS = 10_000;
    /**
     * Sessions backed up by one background run at most: after a node came back empty, 50,000 sessions
     * reach it over a few runs (every 10 s by default) instead of all at once.
     */
    private static final int BACKUPS_PER_RUN = 5_000;

    private final LocalSessions manager;
    private final SessionEngine engine;
    private final StickySessions sessions;
    /**
     * Sessions msm moved, by the random part that all ids msm gives a session share, for as long as
     * the session lives here under an id msm gave it: parallel requests still carrying an old cookie,
     * an answer with the new cookie that never reached the browser, and clients that keep the id they
     * were given (a script's fixed JSESSIONID), which one failed memcached operation would otherwise
     * log out a minute later. An old id tells nobody more than the new one, whose random part it is.
     * One entry per session, however often it moves, with the ids it bore here (a few). Only msm's own
     * moves: an id changed at login (session fixation protection) or by the webapp must stop working
     * at once.
     */
    private final Map<String, Alias> aliases = new ConcurrentHashMap<>();
    /** A session taken over from memcached is loaded once, by the first of its parallel requests. */
    private final SessionTurns turns = new SessionTurns();
    /**
     * Sessions this Tomcat does not hold that one request may look for in memcached. Before msm's valve
     * runs, Tomcat looks up each JSESSIONID cookie of a request until one is valid, and a client can
     * send hundreds of well-formed ids in one header: each would cost a memcached read. A browser
     * sends one cookie, or one per cookie path.
     */
    static final int LOADS_PER_REQUEST = 4;
    private static final long LOADS_WINDOW_NANOS = 1_000_000_000L;
    /** What this thread's request did so far; kept per thread, so a request allocates nothing for it. */
    private final ThreadLocal<ThreadRequest> threadRequest = ThreadLocal.withInitial(ThreadRequest::new);
    private final OncePerMinute logLimit = new OncePerMinute(java.time.Clock.systemUTC());
    private final RequestEnds ends;

    @Override
    public void heldEntries(Map<String, Integer> held) {
        held.put("SessionTurns", turns.inUse());
        held.put("MovedIdAliases", aliases.size());
    }

    StickyRequests(LocalSessions manager, SessionEngine engine, RequestEnds ends) {
        this.ends = ends;
        this.manager = manager;
        this.engine = engine;
        this.sessions = engine.sticky();
    }

    @Override
    public void invoke(Request request, Response response, Valve next) throws IOException, ServletException {
        String requestedId = request.getRequestedSessionId();
        boolean asyncAtStart = request.isAsync(); // a dispatch has no error page of its own here
        ThreadRequest current = threadRequest.get();
        current.serving = true; // also for an expiry the move's lookup finds
        current.loads = 0; // the request's own lookups never pay for the cookies looked up before the valve
        try {
            if (requestedId != null) {
                Session held = manager.inMemory(requestedId);
                if (held == null) {
                    // An old id of a session msm moved: the copy it reaches is checked for a takeover as
                    // well (a script that keeps its first id, after a logout on the Tomcat that took it).
                    Session moved = movedSession(requestedId);
                    if (moved != null) {
                        endedIfTakenOver(moved, requestedId);
                    }
                }
                moveIfNeeded(request, requestedId, held != null && !endedIfTakenOver(held, requestedId));
            }
            Throwable thrown = null;
            try {
                next.invoke(request, response);
            } catch (Throwable t) {
                thrown = t;
                throw t;
            } finally {
                AsyncEnd.whenDone(request, () -> backup(request.getSessionInternal(false)));
                if (ends.errorPageMayFollow(request, response, asyncAtStart, thrown)) {
                    // Taken before `missing` is reset: a stale cookie is not looked for in memcached again.
                    backUpAfterErrorPage(request, request.getSessionInternal(false));
                }
                current.missing = null; // the next request on this thread asks memcached again
            }
        } finally {
            current.serving = false;
            current.loads = 0;
        }
    }

    @Override
    public void errorPageOfIgnored(Request request) {
        backUpAfterErrorPage(request, inMemoryOnly(request.getRequestedSessionId()));
    }

    /**
     * Sessions live in this Tomcat's memory, so an error page finds the user's. Tomcat sends its
     * answer before it says the request is destroyed: what the page changes is backed up right after
     * (when it changed nothing, the backup is skipped).
     */
    private void backUpAfterErrorPage(Request request, Session session) {
        if (session != null) {
            ends.putOff(request, () -> backup(session)); // false: the manager stops, and backs nothing up any more
        }
    }

    /** An ignored URI's request looked nothing up: memory only, as its lookups, never memcached. */
    private Session inMemoryOnly(String id) {
        try {
            return id == null ? null : manager.inMemory(id);
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public String newSessionId(String random) {
        return engine.newSessionId(random, manager.getJvmRoute());
    }

    /** Looks in memory, then in memcached: a session another Tomcat served is taken over here. */
    @Override
    public Session find(String id) throws IOException {
        Session session = manager.inMemory(id);
        if (session != null) {
            return session;
        }
        Session moved = movedSession(id);
        if (moved != null) {
            return moved;
        }
        ThreadRequest current = threadRequest.get();
        if (id.equals(current.missing)) {
            return null;
        }
        if (System.nanoTime() - current.lastLoadEnded > LOADS_WINDOW_NANOS) {
            // Left by lookups that never reached this valve (another webapp's, an application thread's,
            // a request Tomcat rejected after parsing its cookies): they must not cost a later request.
            // Timed from the end of the last load: slow reads one after another never reopen the window.
            current.loads = 0;
        }
        if (current.loads >= LOADS_PER_REQUEST) {
            refused();
            return null;
        }
        current.loads++;
        try {
            return load(id, current);
        } finally {
            current.lastLoadEnded = System.nanoTime();
        }
    }

    /** Loads the session once, by the first of its parallel requests; the others wait and take that one. */
    private Session load(String id, ThreadRequest current) throws IOException {
        SessionTurns.Turn turn = turns.enter(id);
        try {
            synchronized (turn) {
                Session session = manager.inMemory(id);
                if (session != null) {
                    return session;
                }
                Session moved = movedSession(id);
                if (moved != null) {
                    // Loaded and moved by a parallel request while this one waited for the turn: a second
                    // load would replace that copy, and the changes its requests make, in memory.
                    return moved;
                }
                SessionId sid = engine.knownId(id);
                MemcachedSession loaded = manager.emptySession();
                SessionSnapshot snapshot = sid == null ? null : sessions.load(sid, loaded.state());
                if (snapshot == null) {
                    current.missing = id;
                    return null;
                }
                loaded.restore(snapshot);
                return loaded;
            }
        } finally {
            turns.leave(turn);
        }
    }

    private void refused() {
        if (logLimit.allow("loads per request")) {
            LOG.info("a request asked for more than " + LOADS_PER_REQUEST + " sessions this Tomcat does not hold"
                    + " (many JSESSIONID cookies); the others were not looked up in memcached; this line repeats at"
                    + " most once a minute");
        }
    }

    /** @return the session msm moved from this id (one of its ids before), while it lives here; or null */
    private Session movedSession(String oldId) {
        Alias alias = aliases.get(randomOf(oldId));
        // Only an id the session bore here: one of another Tomcat's with the same random part (a
        // takeover there since) must load what that Tomcat stored, not this Tomcat's older copy.
        return alias == null || !alias.oldIds.contains(oldId) ? null : alias.session();
    }

    /**
     * @return the id msm last gave the session an old id of it names, while the session bears it: not
     *     after a login renamed it since (nor while a move renames it), whichever thread renamed it
     */
    private String msmsNewId(String oldId) {
        Session session = movedSession(oldId);
        if (!(session instanceof MemcachedSession)) {
            return null;
        }
        String movedTo = ((MemcachedSession) session).movedTo();
        return movedTo != null && movedTo.equals(session.getIdInternal()) ? movedTo : null;
    }

    /** msm's ids begin with their random part, which has neither '-' nor '.' (hexadecimal). */
    private static String randomOf(String id) {
        int dash = id.indexOf('-');
        int dot = id.indexOf('.');
        int end = dash < 0 ? dot : dot < 0 ? dash : Math.min(dash, dot);
        return end < 0 ? id : id.substring(0, end);
    }

    /** Forgets the session's alias: it ended, left memory, or was renamed by someone else than msm. */
    private void forgetAlias(Session session, String id) {
        if (id != null) {
            aliases.computeIfPresent(randomOf(id), (k, a) -> a.session == session ? null : a);
        }
    }

    @Override
    public void created(MemcachedSession session) {
        // held in memory; backed up after its request
    }

    @Override
    public void renaming(MemcachedSession session, String newId) {
        if (!newId.equals(session.movedTo())) {
            forgetAlias(session, session.getIdInternal()); // a login's: the ids from before it stop working
        }
        sessions.renamed(session.sessionId(), manager.parseId(newId), session.state());
    }

    @Override
    public void ended(MemcachedSession session) {
        forgetAlias(session, session.getIdInternal());
        SessionId id = session.sessionId();
        if (id == null) {
            return;
        }
        if (threadRequest.get().serving) {
            sessions.removedByRequest(id, session.state());
        } else {
            sessions.removed(id, session.state());
        }
    }

    /**
     * Another Tomcat may have taken the copy held here over (the balancer passed this Tomcat over for a
     * while), and a logout there would not reach it: a request with the old cookie, which routes here,
     * would find its user logged in. Asked once a minute per copy in use: a copy whose id carries a
     * takeover mark it did not carry when this Tomcat got it leaves memory, quietly (the session lives
     * on where it was taken, or ended there with its listeners), and its copy under the old id is
     * deleted after any backup of it still on its way, which could otherwise write it back.
     *
     * @param held the session held in memory under the requested id, or null
     * @return true when the copy left memory
     */
    private boolean endedIfTakenOver(Session held, String requestedId) {
        if (!(held instanceof MemcachedSession)) {
            return false;
        }
        MemcachedSession s = (MemcachedSession) held;
        SessionId id = s.sessionId();
        // Without a route no Tomcat marks a takeover: nothing to ask.
        if (id == null || id.jvmRoute() == null
                || !s.takeoverCheckDue(System.currentTimeMillis(), CHECK_TAKEOVER_EVERY_MILLIS)) {
            return false;
        }
        long mark = sessions.movedMark(id);
        if (s.takeoverMarkSeen() == StickySessions.MARK_UNKNOWN) {
            s.takeoverMarkSeen(mark); // not known when the copy came: what is there now counts as seen
            return false;
        }
        if (mark == 0 || mark == s.takeoverMarkSeen()) {
            return false;
        }
        if (logLimit.allow("taken over")) {
            LOG.info("session " + SessionId.masked(requestedId) + " was taken over by another Tomcat after this one"
                    + " got it: its copy here leaves memory instead of serving the old id; this line repeats at most"
                    + " once a minute");
        }
        leaveQuietly(s);
        return true;
    }

    /** The copy of a session that lives on elsewhere leaves memory, with no listener told of an end. */
    private void leaveQuietly(MemcachedSession s) {
        s.leftQuietly(); // first: nothing ends it later with listeners; the requests holding it keep it
        sessions.removed(s.sessionId(), s.state()); // a backup queued meanwhile is dropped, not written
        manager.dropFromMemory(s);
        forgetAlias(s, s.getIdInternal());
    }

    /**
     * Asked once per {@link #CHECK_TAKEOVER_BEFORE_EXPIRY_MILLIS} at most, as Tomcat asks isValid()
     * at every access and every background run: a memcached read.
     */
    @Override
    public boolean leftBeforeExpiry(MemcachedSession s) {
        if (s.sessionId() == null || !s.expiryCheckDue(System.currentTimeMillis(), CHECK_TAKEOVER_BEFORE_EXPIRY_MILLIS)
                || !takenOverMeanwhile(s)) {
            return false;
        }
        if (logLimit.allow("taken over, idle")) {
            LOG.info("session " + s.sessionId().masked() + " reached its timeout here after another Tomcat took it"
                    + " over: its copy here leaves memory with no sessionDestroyed, as the session lives on there;"
                    + " this line repeats at most once a minute");
        }
        leaveQuietly(s);
        return true;
    }

    /**
     * Renames the requested session to this Tomcat's route and to a node that is up, with a new cookie.
     *
     * @param heldHere the request's lookup found the session in this Tomcat's memory
     */
    private void moveIfNeeded(Request request, String requestedId, boolean heldHere) throws IOException {
        if (!heldHere) {
            String newId = msmsNewId(requestedId);
            if (newId != null && !newId.equals(requestedId)) {
                // Moved already, by a parallel request or long ago: find() serves it under its new id, this
                // answer names that id, and the session moves on from there (its new node down too).
                request.changeSessionId(newId);
                moveIfNeeded(request, newId, true);
                return;
            }
        }
        // A session held here needs its id's form checked only: its node may have left memcachedNodes
        // (kept over the redeploy that removed the node), and it then moves to a node that is left, as
        // from a node that is down. Any other id is checked in full: a crafted one moves nothing.
        SessionId current = heldHere ? engine.heldId(requestedId) : engine.knownId(requestedId);
        if (current == null) {
            // Checked once per request: the lookups that follow find it missing.
            threadRequest.get().missing = requestedId;
            return;
        }
        SessionId moved = sessions.movedId(current, manager.getJvmRoute());
        if (moved == null) {
            return;
        }
        Session session = request.getSessionInternal(false);
        if (session == null) {
            return; // lost
        }
        String movedId = moved.toString();
        // Checked and renamed as one step: two parallel requests with the old cookie would otherwise both
        // pass the check and move the session twice (to two nodes when the pick differs), leaving the
        // browser a cookie of a name nothing answers to.
        boolean renamedMeanwhile;
        synchronized (session instanceof MemcachedSession ? ((MemcachedSession) session).moveLock() : session) {
            renamedMeanwhile = !session.getIdInternal().equals(requestedId);
            if (!renamedMeanwhile) {
                // Before the rename, so that a parallel request with the old cookie never loads a second copy.
                aliases.compute(randomOf(requestedId), (k, before) -> Alias.after(before, session, requestedId));
                if (session instanceof MemcachedSession) {
                    ((MemcachedSession) session).movedTo(movedId);
                }
                manager.rename(session, movedId);
            }
        }
        if (renamedMeanwhile) {
            // By a parallel request's move: this answer names the new id too. Not a login's new id, which
            // belongs to the login's answer alone.
            String newId = msmsNewId(requestedId);
            if (newId != null) {
                request.changeSessionId(newId);
            }
            return;
        }
        request.changeSessionId(movedId);
        long markSeen = sessions.moved(current, moved, session.getMaxInactiveInterval());
        if (session instanceof MemcachedSession) {
            ((MemcachedSession) session).takeoverMarkSeen(markSeen);
        }
    }

    /** Hands the session to the engine after a request; a failure is logged, never thrown at the user. */
    private void backup(Session session) {
        if (!(session instanceof MemcachedSession) || !session.isValid()) {
            return;
        }
        MemcachedSession s = (MemcachedSession) session;
        if (s.sessionId() == null) {
            return; // not named by msm: nothing to back it up under
        }
        try {
            boolean changed = !s.changes().isEmpty();
            s.changes().clear();
            sessions.requestEnded(s, changed);
        } catch (RuntimeException | LinkageError | StackOverflowError ex) {
            LOG.error("backup of session " + SessionId.masked(s.getIdInternal()) + " failed; it stays in memory", ex);
        }
    }

    /**
     * Backs up sessions that memcached lacks although their node answers (created while every node
     * was down, or held for a node that came back empty), and sessions changed outside any request.
     * Forgets aliases that lead nowhere now (the session ended, or a login renamed it), and the bytes
     * of sessions no longer in use.
     */
    @Override
    public void background() {
        backUpMissing(BACKUPS_PER_RUN);
        aliases.values().removeIf(a -> a.session() == null); // what forgetAlias missed: a safety net
        sessions.dropIdleBytes();
    }

    /**
     * At the webapp's stop, before the engine closes: every session memcached lacks although its node
     * answers (a node that came back empty moments before), without the background run's budget. What
     * the stop then finds in memory alone is lost at a shutdown.
     */
    void backUpMissingBeforeStop() {
        backUpMissing(Integer.MAX_VALUE);
    }

    private void backUpMissing(int budget) {
        for (Session session : manager.findSessions()) {
            if (budget > 0 && session instanceof MemcachedSession && session.isValid()) {
                MemcachedSession s = (MemcachedSession) session;
                if (s.sessionId() != null && (sessions.needsBackup(s.sessionId(), s.state())
                        || changedOutsideRequests(s) && !(s.isInUse() && takenOverMeanwhile(s)))) {
                    backup(s);
                    budget--;
                }
            }
        }
    }

    /**
     * A session changed while no request uses it: by a job, an {@code @Async} method or a WebSocket
     * holding the {@code HttpSession}. No request's end stores that change, and the next request may
     * come after this Tomcat is gone. So too while the only requests using it began long ago (a
     * stream or a long poll, open for hours): their end may come after this Tomcat is gone.
     */
    private static boolean changedOutsideRequests(MemcachedSession s) {
        return !s.changes().isEmpty() && (!s.isInUse()
                || System.currentTimeMillis() - s.getThisAccessedTimeInternal() > LONG_REQUEST_MILLIS);
    }

    /**
     * A copy a long request still uses, whose session another Tomcat took over since this one got it:
     * storing it would write the old id back (a logout there undone). It leaves memory at its next
     * request's check. Read at each background run that would store it, without taking the request's
     * once-a-minute check.
     */
    private boolean takenOverMeanwhile(MemcachedSession s) {
        SessionId id = s.sessionId();
        long seen = s.takeoverMarkSeen();
        if (id.jvmRoute() == null || seen == StickySessions.MARK_UNKNOWN) {
            return false;
        }
        long mark = sessions.movedMark(id);
        return mark != 0 && mark != seen;
    }

    /** One thread's request, before and inside msm's valve. */
    private static final class ThreadRequest {
        /** Inside the valve: a session ending now is a logout, whose answer waits for its delete. */
        boolean serving;
        /** Sessions this request looked for in memcached so far. */
        int loads;
        /** When the last of them was answered (nanoTime). */
        long lastLoadEnded;
        /** The id this request found missing in memcached: Tomcat asks several times per request. */
        String missing;
    }

    /**
     * The session itself, not only its new name: the rename removes the old id before it adds the new
     * one, and a lookup by name in between found neither.
     */
    private static final class Alias {
        /** Old ids kept per session: the first (a script's) and the latest (tabs, answers on their way). */
        private static final int MAX_OLD_IDS = 8;

        final Session session;
        /** The session's {@link MemcachedSession#othersRenames} when msm moved it. */
        private final int othersRenames;
        /** The ids the session bore here before msm's moves of it. */
        final List<String> oldIds;

        private Alias(Session session, int othersRenames, List<String> oldIds) {
            this.session = session;
            this.othersRenames = othersRenames;
            this.oldIds = oldIds;
        }

        /** @return the alias once msm moved the session from {@code oldId}, keeping what {@code before} had */
        static Alias after(Alias before, Session session, String oldId) {
            int renames = session instanceof MemcachedSession ? ((MemcachedSession) session).othersRenames() : 0;
            List<String> ids = new ArrayList<>();
            if (before != null && before.session == session && before.othersRenames == renames) {
                ids.addAll(before.oldIds);
            }
            if (!ids.contains(oldId)) { // moved back to an id it bore (a node that came back): there once
                if (ids.size() >= MAX_OLD_IDS) {
                    ids.remove(1); // the first stays
                }
                ids.add(oldId);
            }
            return new Alias(session, renames, Collections.unmodifiableList(ids));
        }

        /**
         * @return the session while only msm renamed it since; null once renamed otherwise (a login's
         *     new id: the ids from before the login must stop working at once, and stay so when msm moves
         *     the session later), or ended: Tomcat would otherwise take the old id as in use and give a
         *     new session that id
         */
        Session session() {
            boolean msms = session instanceof MemcachedSession
                    && ((MemcachedSession) session).othersRenames() == othersRenames;
            return msms && session.isValid() ? session : null;
        }
    }
}

package io.msm.tomcat;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

import org.apache.catalina.Manager;
import org.apache.catalina.session.StandardSession;

import io.msm.core.HeldSession;
import io.msm.core.SessionChanges;
import io.msm.core.SessionContent;
import io.msm.core.SessionId;
import io.msm.core.SessionSnapshot;
import io.msm.core.SessionState;
import io.msm.core.StickySessions;
import io.msm.core.UnreadAttribute;

/** A Tomcat session that can be pictured for the engine and rebuilt from what it loaded. */
class MemcachedSession extends StandardSession implements HeldSession {
    private static final long serialVersionUID = 1L;
    /** Tomcat keeps the JAAS subject here; it is rebuilt on login, never stored. */
    private static final String SUBJECT_ATTRIBUTE = "javax.security.auth.subject";

    private final transient SessionState state = new SessionState();
    private final transient SessionChanges changes = new SessionChanges();
    /**
     * Non-sticky mode: requests using this session now; the last one to leave stores and drops it.
     * Changed under this session's monitor; volatile for {@link #isValid()}, which takes none.
     */
    private transient volatile int users;
    private final transient Object storeLock = new Object();
    private transient volatile boolean ending;
    /** Non-sticky: the changes recorded when a store of the shared copy last wrote; under storeLock. */
    private transient long recordedAtSharedStore;
    /** Non-sticky: the last request left and the copy was let go; under this session's monitor. */
    private transient volatile boolean dropped;
    /**
     * Non-sticky: loaded without the lock, by a request that does not lock ({@code lockingMode="auto"}
     * or {@code "uriPattern:..."}) or by one that goes on without its turn (past the waiting cap, or
     * after lockWaitTimeout). A locking request with its turn never joins such a copy: it could be
     * older than what another Tomcat stores under the lock, and a change computed from it would undo
     * that one.
     */
    private transient volatile boolean loadedUnlocked;
    /** Non-sticky: such a copy, replaced in memory by the copy a locking request loaded: its id then. */
    private transient volatile String replacedAs;
    /** Non-sticky: restored from memcached only to fire its listeners for the cluster's idle expiry. */
    private transient volatile boolean restoredToExpire;
    /**
     * Held while the session is renamed, by a move of msm's (sticky: a request checks and renames it
     * under it) or a login. Not the session's own monitor: the rename runs the webapp's listeners, and
     * Tomcat's expire() takes that one.
     */
    private final transient Object moveLock = new Object();
    /** An updater, not an AtomicInteger: one fewer object beside every session in memory. */
    private static final AtomicIntegerFieldUpdater<MemcachedSession> IN_USE =
            AtomicIntegerFieldUpdater.newUpdater(MemcachedSession.class, "inUse");

    /** Requests that obtained this session and have not been recycled yet. */
    private transient volatile int inUse;
    private static final AtomicIntegerFieldUpdater<MemcachedSession> CHANGING =
            AtomicIntegerFieldUpdater.newUpdater(MemcachedSession.class, "changing");
    /** Changes through the API under way: made in memory (listeners may still run), not recorded yet. */
    private transient volatile int changing;
    /** A FORM login under way ({@link FormLoginNotes}) as stored with the session; null when none. */
    private transient volatile byte[] formLogin;
    private final transient Object formLoginLock = new Object();
    /** The last restore found a stored login under way it could not decode: a change to store. */
    private transient boolean formLoginUndecodable;
    @SuppressWarnings("rawtypes")
    private static final AtomicReferenceFieldUpdater<MemcachedSession, Map> UNREAD =
            AtomicReferenceFieldUpdater.newUpdater(MemcachedSession.class, Map.class, "unread");
    /**
     * Attributes loaded whose bytes this Tomcat could not read (a class of another version of the
     * webapp, during a rolling upgrade): invisible here, stored again as they were until the webapp
     * sets or removes that name. Never changed in place: replaced whole.
     */
    private transient volatile Map<String, UnreadAttribute> unread = Collections.emptyMap();
    /**
     * Sticky: when a request last asked whether another Tomcat took the session over, or when this
     * Tomcat loaded it (wall clock); 0 for one made here and not asked about yet (its creation counts).
     */
    private transient volatile long takeoverCheckedAt;
    /** Sticky: when a copy idle past its timeout was last checked for a takeover elsewhere. */
    private transient volatile long expiryCheckedAt;
    /**
     * Sticky: the takeover mark under its id when this Tomcat got it there, to be ignored; 0 for none;
     * {@code StickySessions.MARK_UNKNOWN} when not known (the first mark found is taken as this one).
     */
    private transient volatile long takeoverMarkSeen;
    /** Sticky: left this Tomcat's memory for a takeover elsewhere; only the requests holding it still use it. */
    private transient volatile boolean leftQuietly;
    /** Sticky mode: see {@link #movedTo()}; an id of msm's own, not a login's. */
    private transient volatile String movedTo;
    /** Renames that were not msm's moves (a login's): each makes every id from before it worthless. */
    private transient volatile int othersRenames;
    /** The id parsed once per change of id; null for an id not in msm's form. */
    private transient volatile SessionId sessionId;

    MemcachedSession(Manager manager) {
        super(manager);
    }

    @Override
    public void setId(String id, boolean notify) {
        if (this.id != null && !this.id.equals(id)) {
            // One rename at a time, msm's moves included (which hold it already): a login renaming the
            // session while msm moves it would otherwise be renamed over, the login's id lost and the
            // logged-in session left under an id from before the login.
            synchronized (moveLock()) {
                renameTo(id, notify);
            }
            return;
        }
        setIdAndTimeout(id, notify);
    }

    private void renameTo(String id, boolean notify) {
        // Renamed (a login, a move): the only copy of the new id, so no Tomcat can store a newer one.
        loadedUnlocked = false;
        RequestStrategy requests = requests();
        if (requests != null && sessionId != null) {
            requests.renaming(this, id); // before Tomcat's rename takes the old id out of memory
        }
        changes.renamed(); // a change to store, as one of its attributes would be
        if (!id.equals(movedTo)) {
            othersRenames++; // under moveLock: one at a time
        }
        setIdAndTimeout(id, notify);
    }

    private void setIdAndTimeout(String id, boolean notify) {
        if (this.id == null && isNew && manager instanceof MemcachedSessionManagerBase) {
            // A new session named for the first time: the <Manager>'s timeout goes in before the
            // sessionCreated listeners run, as with Tomcat's own managers, so that one they set holds.
            Integer configured = ((MemcachedSessionManagerBase) manager).configuredTimeout();
            if (configured != null) {
                maxInactiveInterval = configured;
            }
        }
        String before = this.id;
        sessionId = manager instanceof LocalSessions ? ((LocalSessions) manager).parseId(id) : SessionId.parse(id);
        super.setId(id, notify);
        if (before != null && !before.equals(id) && before.equals(getNote(FormLoginNotes.SESSION_ID_NOTE))) {
            // msm moved the session (a takeover, a node's failover), and the request now asks for the new id
            // (Request.changeSessionId): the login under way expects it, as after Tomcat's own renames.
            setNote(FormLoginNotes.SESSION_ID_NOTE, id);
        }
    }

    /**
     * Non-sticky: a copy that requests here use, or used, is not ended by Tomcat's idle check, which
     * counts only this Tomcat's requests: during a long upload here the user may work on the other
     * Tomcats, and ending this copy would end the session for the whole cluster. The cluster's idle
     * expiry decides for it, by the validity record that every Tomcat's requests keep.
     */
    @Override
    public boolean isValid() {
        if (leftQuietly) {
            // The requests that hold it keep it to their end (a new session would replace the cookie the
            // other Tomcat gave); nothing else finds it, and it never ends here with listeners.
            return isValid && isInUse();
        }
        if ((users > 0 || dropped) && isValid && !expiring) {
            return true;
        }
        if (isValid && !expiring && mayBeIdlePastTimeout() && leftBeforeExpiry()) {
            return false; // no listener hears an end: the session lives on elsewhere
        }
        return super.isValid();
    }

    /** By either of Tomcat's counts of idle time: from the last request's start, or its end. */
    private boolean mayBeIdlePastTimeout() {
        return maxInactiveInterval > 0
                && System.currentTimeMillis() - Math.min(thisAccessedTime, lastAccessedTime) >= maxInactiveInterval * 1000L;
    }

    /**
     * Sticky: a copy whose session another Tomcat took over (the balancer moved its user while this
     * Tomcat was alive) would otherwise end here with every listener, the user still working there.
     */
    private boolean leftBeforeExpiry() {
        RequestStrategy requests = requests();
        return requests != null && requests.leftBeforeExpiry(this);
    }

    /** @return the mode's handling of requests; null for a manager that is not msm's, or not started */
    private RequestStrategy requests() {
        return manager instanceof RequestGate ? ((RequestGate) manager).requests() : null;
    }

    /**
     * Non-sticky: this Tomcat's requests left the copy idle past its timeout (a long request ran on
     * alone): the cluster's expiry may have ended the session since, and the validity record in
     * memcached decides for a request that would join the copy, through a load of its own.
     */
    boolean isIdlePastTimeout(long now) {
        return maxInactiveInterval > 0 && now - thisAccessedTime >= maxInactiveInterval * 1000L;
    }

    @Override
    public SessionId sessionId() {
        return sessionId;
    }

    @Override
    public SessionState state() {
        return state;
    }

    SessionChanges changes() {
        return changes;
    }

    Object moveLock() {
        return moveLock == null ? this : moveLock; // null only in a copy Java serialization made
    }

    boolean isRestoredToExpire() {
        return restoredToExpire;
    }

    /** @return true for another copy of the same session: same id, same creation */
    boolean isCopyOf(MemcachedSession other) {
        return other != this && creationTime == other.creationTime && id != null && id.equals(other.id);
    }

    boolean isLoadedUnlocked() {
        return loadedUnlocked;
    }

    void loadedUnlocked(boolean unlocked) {
        loadedUnlocked = unlocked;
    }

    /**
     * @return true for a copy replaced in memory (see {@link #replaced}) that its requests neither
     *     changed nor renamed: it has nothing to store
     */
    boolean isReplacedUnchanged() {
        String id = replacedAs;
        return id != null && id.equals(getIdInternal()) && changes.isEmpty();
    }

    /** @param id the id the copy was loaded under: a rename since then must still be stored */
    void replaced(String id) {
        replacedAs = id;
    }

    /**
     * Non-sticky: held while the session is stored, so that the stores of its parallel requests take
     * turns. Taken before the session's monitor, never while holding it (Tomcat's expire() holds it).
     */
    Object storeLock() {
        return storeLock;
    }

    long recordedAtSharedStore() {
        return recordedAtSharedStore;
    }

    void recordedAtSharedStore(long recorded) {
        recordedAtSharedStore = recorded;
    }

    /** Invalidated or expired: set before its keys are deleted, which Tomcat's expire() does before isValid turns false. */
    void ending() {
        ending = true;
    }

    /**
     * @return true once invalidation or expiry began, or ended; unlike {@link #isValid()}, it never
     *     expires the session itself, which a background thread must not do to one requests still use
     */
    boolean isEnding() {
        return ending || !isValid;
    }

    /**
     * @return true while Tomcat's expire() tells the session's listeners, before {@link #ending}: an
     *     invalidation has begun that has not deleted the session's keys yet
     */
    boolean isExpiring() {
        return expiring;
    }

    /** @return true once the last request left: it stores the session, and nothing else may */
    boolean isDropped() {
        return dropped; // only ever turns true; read without the monitor, which expire() holds for long
    }

    /** @return false when the session was dropped from memory meanwhile; the caller loads it anew */
    synchronized boolean join() {
        if (dropped) {
            return false;
        }
        users++;
        return true;
    }

    /** @return true when one request alone uses the session */
    synchronized boolean isOnlyUser() {
        return users == 1;
    }

    /** @return true for the last request leaving: it stores the session and drops it from memory */
    synchronized boolean leave() {
        users--;
        if (users <= 0 && !dropped) {
            dropped = true;
            return true;
        }
        return false;
    }

    @Override
    public void access() {
        super.access();
        IN_USE.incrementAndGet(this);
    }

    @Override
    public void endAccess() {
        IN_USE.decrementAndGet(this);
        super.endAccess();
    }

    @Override
    public boolean isInUse() {
        return inUse > 0;
    }

    /**
     * Tomcat refuses {@code setAttribute} of a value this denies in a webapp marked
     * {@code <distributable/>}: what msm's transcoder can store, not only what is Serializable (Kryo).
     */
    @Override
    public boolean isAttributeDistributable(String name, Object value) {
        java.util.function.Predicate<Object> storable = manager instanceof MemcachedSessionManagerBase
                ? ((MemcachedSessionManagerBase) manager).storable() : null;
        return storable == null ? super.isAttributeDistributable(name, value) : storable.test(value);
    }

    @Override
    public void setAttribute(String name, Object value, boolean notify) {
        if (FormLoginNotes.ATTRIBUTE.equals(name)) {
            // msm's own name for a FORM login under way: the webapp's value stays in memory, and records
            // no change that a merge would apply to the stored login.
            super.setAttribute(name, value, notify);
            return;
        }
        // Spring's RequestContextListener sets the same objects again after the request's end: no change.
        Object before = dropped && name != null ? attributes.get(name) : null;
        CHANGING.incrementAndGet(this);
        try {
            super.setAttribute(name, value, notify);
            if (name != null && value != null) { // a null value is a removal, recorded as such
                forgetUnread(name); // the webapp's value replaces the bytes it could not read
                changes.attributeSet(name);
                if (value != before && dropped) { // the text only for a copy let go: not on the request path
                    changedWhileDropped("attribute '" + name + "'");
                }
            }
        } finally {
            CHANGING.decrementAndGet(this);
        }
    }

    @Override
    protected void removeAttributeInternal(String name, boolean notify) {
        if (FormLoginNotes.ATTRIBUTE.equals(name)) {
            super.removeAttributeInternal(name, notify); // as setAttribute: no change of the stored login
            return;
        }
        boolean present = dropped && name != null && attributes.containsKey(name);
        CHANGING.incrementAndGet(this);
        try {
            super.removeAttributeInternal(name, notify);
            forgetUnread(name);
            changes.attributeRemoved(name);
            if (present) {
                changedWhileDropped("attribute '" + name + "'");
            }
        } finally {
            CHANGING.decrementAndGet(this);
        }
    }

    /**
     * Non-sticky: the copy's last request stored it and let it go; nothing stores this change.
     *
     * @param what the change, for the WARN: "attribute 'x'"
     */
    private void changedWhileDropped(String what) {
        // Not an invalidation: expire() marks the session invalid before it removes the attributes.
        if (dropped && isValid && !expiring && manager instanceof MemcachedSessionManagerBase) {
            ((MemcachedSessionManagerBase) manager).changedOutsideRequests(this, what);
        }
    }

    @Override
    public void setPrincipal(java.security.Principal principal) {
        CHANGING.incrementAndGet(this);
        try {
            super.setPrincipal(principal);
            changes.principalChanged();
        } finally {
            CHANGING.decrementAndGet(this);
        }
    }

    /**
     * The notes of a FORM login under way are stored with the session, so that its three requests
     * (the page asked for, the login, the replay) may each reach another Tomcat; a change of them is
     * a change to store, as one of an attribute is.
     */
    @Override
    public void setNote(String name, Object value) {
        if (!FormLoginNotes.isCarried(name)) {
            super.setNote(name, value);
            return;
        }
        synchronized (formLoginLock) { // parallel requests: the bytes follow the notes' last state
            super.setNote(name, value);
            formLoginChanged();
        }
    }

    @Override
    public void removeNote(String name) {
        if (!FormLoginNotes.isCarried(name)) {
            super.removeNote(name);
            return;
        }
        boolean present;
        boolean wasStored;
        synchronized (formLoginLock) {
            wasStored = formLogin != null;
            present = getNote(name) != null;
            super.removeNote(name);
            if (present) {
                formLoginChanged();
            }
        }
        if (present && wasStored && FormLoginNotes.REQUEST_NOTE.equals(name)) {
            // Stored at once where another Tomcat could still find the login under way (non-sticky). Not
            // waiting for the expected id's removal, which Tomcat makes next: stored alone, it replays nothing.
            RequestStrategy requests = requests();
            if (requests != null) {
                requests.formLoginReplayed(this);
            }
        }
    }

    /** Non-sticky: a copy just loaded has no changes of its own, but one whose stored login did not decode. */
    void clearChangesAfterLoad() {
        changes.clear();
        if (formLoginUndecodable) {
            changes.attributeRemoved(FormLoginNotes.ATTRIBUTE);
        }
    }

    @Override
    public void recycle() {
        super.recycle(); // clears the notes
        formLogin = null;
        unread = Collections.emptyMap();
        takeoverCheckedAt = 0;
        expiryCheckedAt = 0;
        takeoverMarkSeen = 0;
        movedTo = null;
        othersRenames = 0;
        leftQuietly = false;
    }

    long takeoverMarkSeen() {
        return takeoverMarkSeen;
    }

    /** Sticky: the session lives on in another Tomcat; no new request finds this copy, nor do listeners hear it end. */
    void leftQuietly() {
        leftQuietly = true;
    }

    /** A copy that left quietly ends here with no listener told (a logout through a request that held it). */
    @Override
    public void expire(boolean notify) {
        if (leftQuietly) {
            setValid(false);
            return;
        }
        super.expire(notify);
    }

    /** @return the id msm last gave this session by a move, set before the rename; null if none */
    String movedTo() {
        return movedTo;
    }

    void movedTo(String id) {
        movedTo = id;
    }

    /** @return how many times something else than msm's moves renamed it (a login), for aliases to compare */
    int othersRenames() {
        return othersRenames;
    }

    /** @param mark the takeover mark found under the id this session has just moved to, 0, or unknown */
    void takeoverMarkSeen(long mark) {
        takeoverMarkSeen = mark;
    }

    /** @return true at most once per {@code everyMillis} for a copy idle past its timeout; see leftBeforeExpiry */
    boolean expiryCheckDue(long now, long everyMillis) {
        if (expiryCheckedAt != 0 && now - expiryCheckedAt < everyMillis) {
            return false;
        }
        expiryCheckedAt = now;
        return true;
    }

    /**
     * @return true, once per {@code everyMillis} of this copy's life here, for the request that is to
     *     ask memcached whether another Tomcat took the session over
     */
    boolean takeoverCheckDue(long now, long everyMillis) {
        if (now - (takeoverCheckedAt != 0 ? takeoverCheckedAt : creationTime) < everyMillis) {
            return false;
        }
        takeoverCheckedAt = now; // parallel requests may each ask once: harmless
        return true;
    }

    @SuppressWarnings("unchecked")
    private void forgetUnread(String name) {
        for (Map<String, UnreadAttribute> now = unread; now.containsKey(name); now = unread) {
            Map<String, UnreadAttribute> left = new HashMap<>(now);
            left.remove(name);
            if (UNREAD.compareAndSet(this, now, left.isEmpty() ? Collections.emptyMap() : left)) {
                return;
            }
        }
    }

    private void formLoginChanged() {
        if (!(manager instanceof MemcachedSessionManagerBase)) {
            return;
        }
        CHANGING.incrementAndGet(this);
        try {
            byte[] before = formLogin;
            formLogin = ((MemcachedSessionManagerBase) manager).formLogins().toStore(
                    getNote(FormLoginNotes.REQUEST_NOTE), getNote(FormLoginNotes.SESSION_ID_NOTE));
            if (formLogin != null) {
                changes.attributeSet(FormLoginNotes.ATTRIBUTE);
            } else if (before != null) {
                changes.attributeRemoved(FormLoginNotes.ATTRIBUTE);
            }
        } finally {
            CHANGING.decrementAndGet(this);
        }
    }

    @Override
    public void setMaxInactiveInterval(int interval) {
        boolean changed = interval != maxInactiveInterval;
        CHANGING.incrementAndGet(this);
        try {
            super.setMaxInactiveInterval(interval);
            changes.maxInactiveChanged();
            if (changed) {
                // A WebSocket endpoint's setMaxInactiveInterval(-1) while its socket is open, say.
                changedWhileDropped("the timeout (setMaxInactiveInterval)");
            }
        } finally {
            CHANGING.decrementAndGet(this);
        }
    }

    /**
     * @return true when no change through the API is under way and none was recorded since
     *     {@code recorded}: a change already in memory, whose record comes after its listeners, would
     *     otherwise be recorded after its store cleared the changes, and merged again later
     */
    boolean isQuietSince(long recorded) {
        return changing == 0 && changes.recorded() == recorded;
    }

    @Override
    public SessionSnapshot snapshot() {
        // Read before the attributes: a value set meanwhile under an unread name is then in the map, or
        // the bytes it replaces are still here; never neither.
        Map<String, UnreadAttribute> notRead = unread;
        Map<String, Object> stored = new HashMap<>(attributes.size() * 2);
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            String name = e.getKey();
            if (!SUBJECT_ATTRIBUTE.equals(name) && !FormLoginNotes.ATTRIBUTE.equals(name)
                    && manager.willAttributeDistribute(name, e.getValue())) {
                stored.put(name, e.getValue());
            }
        }
        byte[] login = formLogin;
        if (login != null) {
            stored.put(FormLoginNotes.ATTRIBUTE, login);
        }
        // thisAccessedTime: this request's access; lastAccessedTime moves only when the request is recycled.
        // persistAuthentication="false": the login stays in this Tomcat's memory.
        boolean withLogin = !(manager instanceof MemcachedSessionManagerBase)
                || ((MemcachedSessionManagerBase) manager).storesLogins();
        return new SessionSnapshot(sessionId, creationTime, Math.max(lastAccessedTime, thisAccessedTime), maxInactiveInterval,
                withLogin ? authType : null,
                new SessionContent(stored, withLogin ? ((PrincipalStorage) manager).principalToStore(principal) : null,
                        notRead));
    }

    /**
     * Takes over a session another Tomcat stored: same id, times, attributes and principal, and
     * the attributes that listen for activation hear {@code sessionDidActivate}.
     */
    void restore(SessionSnapshot snapshot) {
        restore(snapshot, true);
    }

    /** @param activate false for a session restored only to be expired */
    void restore(SessionSnapshot snapshot, boolean activate) {
        restoredToExpire = !activate;
        creationTime = snapshot.creationTime();
        long now = System.currentTimeMillis();
        takeoverCheckedAt = now; // the first check a minute from now
        // Loaded from memcached or kept over a reload: a mark under its id may be one it already passed
        // (a return whose delete failed). The first check takes what it finds as seen, rather than drop
        // a copy that may be the session's only one; a takeover within that first minute goes unseen.
        takeoverMarkSeen = StickySessions.MARK_UNKNOWN;
        lastAccessedTime = snapshot.lastAccessedTime();
        // The copy exists in memcached, so it has not expired; its idle time starts now.
        thisAccessedTime = now;
        maxInactiveInterval = snapshot.maxInactiveInterval();
        if (activate && snapshot.lastAccessNearlyExpired(now)) {
            // The copy's last access is its last change's in sticky mode (unchanged requests only push
            // its expiry in memcached forward), and lags by up to a tenth of the timeout (at most a
            // minute) in non-sticky mode. Tomcat's idle check by the last access (sessionLastAccessAtStart,
            // LAST_ACCESS_AT_START, STRICT_SERVLET_COMPLIANCE) would end at once the session memcached
            // holds alive: its user, logged out at a failover.
            lastAccessedTime = now;
        }
        isNew = false;
        isValid = true;
        authType = snapshot.authType();
        principal = ((PrincipalStorage) manager).principalLoaded(snapshot.content().principal());
        Map<String, Object> loaded = snapshot.content().attributes();
        unread = snapshot.content().unread();
        notes.remove(FormLoginNotes.REQUEST_NOTE);
        notes.remove(FormLoginNotes.SESSION_ID_NOTE);
        formLogin = null;
        formLoginUndecodable = false;
        Object login = loaded.get(FormLoginNotes.ATTRIBUTE);
        if (login != null) {
            loaded = new HashMap<>(loaded);
            loaded.remove(FormLoginNotes.ATTRIBUTE);
            if (login instanceof byte[] && manager instanceof MemcachedSessionManagerBase
                    && ((MemcachedSessionManagerBase) manager).formLogins().loaded((byte[]) login, notes,
                            snapshot.id().toString())) {
                formLogin = (byte[]) login;
            } else {
                formLoginUndecodable = true;
                changes.attributeRemoved(FormLoginNotes.ATTRIBUTE); // the next store drops what did not decode
            }
        }
        attributes.putAll(loaded);
        setId(snapshot.id().toString(), false);
        if (activate) {
            activate();
        }
    }
}

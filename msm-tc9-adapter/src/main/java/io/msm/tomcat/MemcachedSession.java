package io.msm.tomcat;

import java.util.HashMap;
import java.util.Map;

import org.apache.catalina.Manager;
import org.apache.catalina.session.StandardSession;

import io.msm.core.SessionContent;
import io.msm.core.SessionSnapshot;
import io.msm.core.SessionState;

/** A Tomcat session that can be pictured for the engine and rebuilt from what it loaded. */
class MemcachedSession extends StandardSession {
    private static final long serialVersionUID = 1L;
    /** Tomcat keeps the JAAS subject here; it is rebuilt on login, never stored. */
    private static final String SUBJECT_ATTRIBUTE = "javax.security.auth.subject";

    private final transient SessionState state = new SessionState();

    MemcachedSession(Manager manager) {
        super(manager);
    }

    SessionState state() {
        return state;
    }

    SessionSnapshot snapshot() {
        Map<String, Object> stored = new HashMap<>(attributes.size() * 2);
        for (Map.Entry<String, Object> e : attributes.entrySet()) {
            String name = e.getKey();
            if (!SUBJECT_ATTRIBUTE.equals(name) && manager.willAttributeDistribute(name, e.getValue())) {
                stored.put(name, e.getValue());
            }
        }
        return new SessionSnapshot(id, creationTime, lastAccessedTime, maxInactiveInterval, authType,
                new SessionContent(stored, principal));
    }

    /**
     * Takes over a session another Tomcat stored: same id, times, attributes and principal, and
     * the attributes that listen for activation hear {@code sessionDidActivate}.
     */
    void restore(SessionSnapshot snapshot) {
        creationTime = snapshot.creationTime();
        lastAccessedTime = snapshot.lastAccessedTime();
        // The copy exists in memcached, so it has not expired; its idle time starts now.
        thisAccessedTime = System.currentTimeMillis();
        maxInactiveInterval = snapshot.maxInactiveInterval();
        isNew = false;
        isValid = true;
        authType = snapshot.authType();
        principal = snapshot.content().principal();
        attributes.putAll(snapshot.content().attributes());
        setId(snapshot.id(), false);
        activate();
    }
}

package io.msm.tomcat;

import java.io.IOException;

import org.apache.catalina.Session;

/** What a {@link RequestStrategy} needs of the manager: its sessions in this Tomcat's memory. */
interface LocalSessions {
    /** @return the session held in memory, without asking memcached */
    Session inMemory(String id) throws IOException;

    /** @return every session held in memory */
    Session[] findSessions();

    /** @return a session to restore a loaded snapshot into, not yet in memory */
    MemcachedSession emptySession();

    /** Drops a session from memory without ending it: memcached keeps it. */
    void dropFromMemory(MemcachedSession session);

    /** Gives a session msm moved its new id, as Tomcat does at login. */
    void rename(Session session, String newId);

    /** @return the id parsed as the engine reads ids (a single host:port node's may name no node); null if not msm's */
    io.msm.core.SessionId parseId(String id);

    /** @return this Tomcat's route, or null */
    String getJvmRoute();
}

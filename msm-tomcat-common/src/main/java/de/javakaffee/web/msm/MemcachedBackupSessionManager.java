package de.javakaffee.web.msm;

import io.msm.tomcat.MemcachedSessionManager;

/**
 * memcached-session-manager 2.3.2's class name, so that a context file written for it starts msm
 * once only the jars were swapped. The start logs what to write instead, and refuses to run while
 * 2.3.2's own jar is still beside msm's (which of two classes of one name loads is left to chance).
 */
public class MemcachedBackupSessionManager extends MemcachedSessionManager {
}

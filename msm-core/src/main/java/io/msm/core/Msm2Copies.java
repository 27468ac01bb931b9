package io.msm.core;

import java.util.Map;

import org.slf4j.Logger;

/**
 * The copies of sessions that memcached-session-manager 2.3.2 reads, while a cluster switches to
 * msm one Tomcat at a time ({@code compatibility}). Such a copy lives on the node in the session id,
 * under 2.3.2's key; what it holds is read through the {@code serialFilter}, and a session read from
 * it is written back in msm's format by the next backup.
 *
 * <p>With {@code msm2} both kinds of Tomcat write 2.3.2's copy, so it is the newest and is read first;
 * msm's own is written too, so that nothing is lost when the attribute goes. With {@code msm2-read}
 * only msm's is written, and 2.3.2's is read where msm has none. Both delete 2.3.2's copy of an
 * ended session: a logout must not be undone by a copy left behind.
 */
final class Msm2Copies {
    private static final Logger LOG = Logs.get(Msm2Copies.class);

    private final boolean writes;
    private final String prefix;
    private final Msm2Serialization serialization;
    private final SessionNames names;
    private final Statistics statistics;
    private final Expiry expiry;
    private final OncePerMinute logLimit;

    Msm2Copies(Settings.Compatibility mode, Msm2Format format, SessionNames names, Statistics statistics,
            Expiry expiry, OncePerMinute logLimit) {
        this.writes = mode == Settings.Compatibility.MSM2;
        this.prefix = format.keyPrefix;
        this.serialization = format.serialization;
        this.names = names;
        this.statistics = statistics;
        this.expiry = expiry;
        this.logLimit = logLimit;
    }

    /** @return null without {@code compatibility} */
    static Msm2Copies create(Settings settings, Msm2Format format, SessionNames names, Statistics statistics,
            Expiry expiry, OncePerMinute logLimit) {
        if (settings.compatibility() == Settings.Compatibility.NONE || format == null) {
            return null;
        }
        return new Msm2Copies(settings.compatibility(), format, names, statistics, expiry, logLimit);
    }

    String key(SessionId id) {
        return prefix + id;
    }

    /** @return true when 2.3.2's copy is written beside msm's, and so is the newest of the two */
    boolean writes() {
        return writes;
    }

    /**
     * @return true when 2.3.2's key and msm's are one (a storageKeyPrefix such as static:x gives both
     *     the same text): that key then holds 2.3.2's format while it is written, and either is read
     */
    boolean sharesKey(SessionId id) {
        return key(id).equals(names.of(id));
    }

    /**
     * Reads a session from 2.3.2's copy or from msm's, whichever {@link #writes} makes the newer,
     * then the other.
     *
     * @return the bytes found, or null
     */
    byte[] get(SessionStore store, String node, SessionId id, Reader ours) throws StoreException {
        if (sharesKey(id)) {
            return ours.read();
        }
        byte[] first = writes ? store.get(node, key(id)) : ours.read();
        if (first != null) {
            return first;
        }
        return writes ? ours.read() : store.get(node, key(id));
    }

    /** How msm's own copy is read, with what encryption migration needs. */
    interface Reader {
        byte[] read() throws StoreException;
    }

    /**
     * @return the session a 2.3.2 copy holds, or null when it is broken, of another id, invalidated
     *     or expired; each is logged, never deserialized blindly
     */
    SessionSnapshot decode(SessionId id, String node, byte[] bytes) {
        try {
            Msm2Frame frame = Msm2Frame.decode(bytes);
            if (!frame.id.equals(id.toString())) {
                throw new FrameException("it names another session id");
            }
            long lastAccess = Math.max(frame.lastAccessedTime, frame.thisAccessedTime);
            boolean expired = frame.maxInactiveInterval > 0
                    && expiry.now() - lastAccess >= frame.maxInactiveInterval * 1000L;
            if (!frame.valid || expired) {
                return null; // as 2.3.2 would have found it: ended
            }
            Map<String, Object> attributes = serialization.readAttributes(frame.attributes);
            java.security.Principal principal = frame.principal.length == 0 ? null
                    : serialization.readPrincipal(frame.principal);
            statistics.increment(Statistics.Counter.MSM2_SESSIONS_READ);
            if (logLimit.allow("msm2 read")) {
                LOG.info("session {} read from the copy memcached-session-manager 2.3.2 keeps on node {}; such sessions"
                        + " are counted in MSM2_SESSIONS_READ and this line repeats at most once a minute", id.masked(),
                        node);
            }
            return new SessionSnapshot(id, frame.creationTime, lastAccess, frame.maxInactiveInterval, frame.authType,
                    new SessionContent(attributes, principal));
        } catch (FrameException | TranscoderException e) {
            statistics.increment(Statistics.Counter.UNDECODABLE_SESSIONS);
            LOG.warn("session {}: the copy of memcached-session-manager 2.3.2 on memcached node {} does not decode and"
                    + " is treated as missing: {}", id.masked(), node, e.getMessage());
            return null;
        }
    }

    /** @return 2.3.2's bytes of the session, or null when they cannot be made (logged and counted) */
    byte[] encode(SessionSnapshot s) {
        try {
            SessionContent content = s.content();
            byte[] principal = content.principal() == null ? new byte[0]
                    : serialization.writePrincipal(content.principal());
            byte[] attributes = serialization.writeAttributes(content.attributes());
            return new Msm2Frame(s.creationTime(), s.lastAccessedTime(), s.maxInactiveInterval(), true,
                    s.lastAccessedTime(), s.id().toString(), s.authType(), principal, attributes).encode(expiry.now());
        } catch (TranscoderException | IllegalArgumentException e) {
            notWritten(s.id(), e.getMessage());
            return null;
        }
    }

    /** Writes 2.3.2's copy after msm's; its failure leaves msm's copy, and is counted. */
    void store(SessionStore store, String node, SessionId id, byte[] bytes, int expirySeconds) {
        try {
            store.set(node, key(id), bytes, expirySeconds);
        } catch (StoreException e) {
            notWritten(id, e.getMessage());
        }
    }

    /** Deletes 2.3.2's copy of an ended or renamed session; a failure leaves it to its expiry. */
    void delete(SessionStore store, String node, SessionId id) {
        if (sharesKey(id)) {
            return; // deleted as msm's
        }
        try {
            store.delete(node, key(id));
        } catch (StoreException e) {
            LOG.debug("the copy memcached-session-manager 2.3.2 reads of session {} was not deleted: {}", id.masked(),
                    e.getMessage());
        }
    }

    private void notWritten(SessionId id, String why) {
        statistics.increment(Statistics.Counter.MSM2_COPIES_FAILED);
        if (logLimit.allow("msm2 write")) {
            LOG.warn("session {}: the copy memcached-session-manager 2.3.2 reads was not written ({}); a Tomcat still on"
                    + " 2.3.2 would not find this session. MSM2_COPIES_FAILED counts such copies; this line repeats"
                    + " at most once a minute", id.masked(), why);
        }
    }
}

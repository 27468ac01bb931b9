package io.msm.core;

import java.util.Map;

import org.slf4j.Logger;

/**
 * The copies of sessions that memcached-session-manager 2.3.2 reads, while a cluster switches to
 * msm one Tomcat at a time ({@code compatibility}). Such a copy lives on the node in the session id,
 * under 2.3.2's key; what it holds is read through the {@code serialFilter}, and a session read from
 * it is written back in msm's format by the next backup.
 *
 * <p>With {@code msm2} both kinds of Tomcat write 2.3.2's key, so it says what is current: 2.3.2's
 * copy, or a {@link #MARKER} that msm's own copy is (a session 2.3.2 cannot hold, or one written by a
 * Tomcat on {@code msm2-read}, which writes the marker at every store and touch, so that it lives as
 * long as msm's copy). Where 2.3.2's key is missing the session ended there (a logout on a 2.3.2
 * Tomcat deletes only its own copy), and msm's copy left behind is not read. With {@code msm2-read}
 * msm's copy is read first and 2.3.2's where msm has none: Tomcats that no longer set
 * {@code compatibility} write msm's copy alone. So a cluster switches to {@code msm2-read} only once
 * copies left behind by 2.3.2's logouts have expired (the README's step 4). Both delete 2.3.2's key
 * of an ended session: a logout must not be undone by a copy left behind.
 */
final class Msm2Copies {
    private static final Logger LOG = Logs.get(Msm2Copies.class);

    /** What {@link #encode} gives when 2.3.2's copy cannot be made: the marker goes to its key instead. */
    static final byte[] UNWRITABLE = new byte[0];
    /**
     * What 2.3.2's key holds when msm's copy is the current one. 2.3.2 cannot read it and treats the
     * session as not found, as it would a missing one; never mistaken for its format or msm's.
     */
    static final byte[] MARKER = "msm:current-copy-is-msm's".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final boolean writes;
    private final String prefix;
    private final Msm2Serialization serialization;
    /**
     * True when 2.3.2's keys and msm's are one (a storageKeyPrefix such as static:x gives both the
     * same text): that key then holds 2.3.2's format while it is written, and either is read.
     */
    private final boolean sharesKey;
    private final Statistics statistics;
    private final Expiry expiry;
    private final OncePerMinute logLimit;

    /** @param ownPrefix msm's key prefix; its keys are that and the id, since compatibility excludes encryption */
    Msm2Copies(Settings.Compatibility mode, Msm2Format format, String ownPrefix, Statistics statistics,
            Expiry expiry, OncePerMinute logLimit) {
        this.writes = mode == Settings.Compatibility.MSM2;
        this.prefix = format.keyPrefix;
        this.serialization = format.serialization;
        this.sharesKey = prefix.equals(ownPrefix);
        this.statistics = statistics;
        this.expiry = expiry;
        this.logLimit = logLimit;
    }

    /** @return null without {@code compatibility} */
    static Msm2Copies create(Settings settings, Msm2Format format, String ownPrefix, Statistics statistics,
            Expiry expiry, OncePerMinute logLimit) {
        if (settings.compatibility() == Settings.Compatibility.NONE || format == null) {
            return null;
        }
        return new Msm2Copies(settings.compatibility(), format, ownPrefix, statistics, expiry, logLimit);
    }

    String key(SessionId id) {
        return prefix + id;
    }

    /** @return true when 2.3.2's copy is written beside msm's ({@code msm2}) */
    boolean writes() {
        return writes;
    }

    private static boolean isMarker(byte[] bytes) {
        return bytes != null && java.util.Arrays.equals(bytes, MARKER);
    }

    /** @return true when 2.3.2's keys and msm's are one */
    boolean sharesKey() {
        return sharesKey;
    }

    /**
     * Reads the current copy of a session, as the class comment says which.
     *
     * @return the bytes found, or null
     */
    byte[] get(SessionStore store, String node, SessionId id, Reader ours) throws StoreException {
        if (sharesKey) {
            return ours.read();
        }
        if (writes) {
            byte[] theirs = store.get(node, key(id));
            return isMarker(theirs) ? ours.read() : theirs;
        }
        // msm2-read: msm's copy first, since a Tomcat that no longer sets compatibility writes it alone.
        byte[] own = ours.read();
        if (own != null) {
            return own;
        }
        byte[] theirs = store.get(node, key(id));
        return isMarker(theirs) ? null : theirs;
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
            // 2.3.2 (Tomcat's StandardSession by default) measures idleness from thisAccessedTime. msm
            // writes its copy again only at a change or once per refresh interval, so that time may lag
            // by as much: allowed, as for msm's own copies, lest a user still in time be logged out.
            boolean expired = frame.maxInactiveInterval > 0 && expiry.now() - frame.thisAccessedTime
                    >= Expiry.lifetimeSeconds(frame.maxInactiveInterval) * 1000L;
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
            return new SessionSnapshot(id, frame.creationTime, frame.lastAccessedTime, frame.maxInactiveInterval,
                    frame.authType,
                    new SessionContent(attributes, principal));
        } catch (FrameException | TranscoderException e) {
            statistics.increment(Statistics.Counter.UNDECODABLE_SESSIONS);
            if (logLimit.allow("msm2 undecodable " + node)) {
                LOG.warn("session {}: the copy of memcached-session-manager 2.3.2 on memcached node {} does not decode"
                        + " and is treated as missing: {}; UNDECODABLE_SESSIONS counts each such session ({} so far);"
                        + " this line repeats at most once a minute per node", id.masked(), node, e.getMessage(),
                        statistics.get(Statistics.Counter.UNDECODABLE_SESSIONS));
            }
            return null;
        }
    }

    /** @return 2.3.2's bytes of the session, or {@link #UNWRITABLE} when they cannot be made (logged and counted) */
    byte[] encode(SessionSnapshot s) {
        try {
            SessionContent content = s.content();
            if (!content.unread().isEmpty()) {
                // 2.3.2's format cannot carry them: msm's own copy, which does, is what msm's Tomcats read then.
                throw new IllegalArgumentException("it holds " + content.unread().size() + " attribute(s) this Tomcat"
                        + " cannot read, which 2.3.2's format cannot carry as they are");
            }
            byte[] principal = content.principal() == null ? new byte[0]
                    : serialization.writePrincipal(content.principal());
            byte[] attributes = serialization.writeAttributes(content.attributes());
            byte[] frame = new Msm2Frame(s.creationTime(), s.lastAccessedTime(), s.maxInactiveInterval(), true,
                    s.lastAccessedTime(), s.id().toString(), s.authType(), principal, attributes).encode(expiry.now());
            if (frame.length > PartedStore.PART_SIZE) {
                // msm would write it in parts, which 2.3.2 cannot put together: the marker goes instead.
                throw new IllegalArgumentException(frame.length + " bytes, more than the " + PartedStore.PART_SIZE
                        + " msm writes as one memcached item, and 2.3.2 reads a session from one item only");
            }
            return frame;
        } catch (TranscoderException | IllegalArgumentException e) {
            notWritten(s.id(), e.getMessage());
            return UNWRITABLE;
        }
    }

    /**
     * After msm's copy was written or touched: 2.3.2's key gets its copy ({@code msm2}), or the marker
     * when that copy cannot be made or this Tomcat no longer writes it ({@code msm2-read}). A touch
     * writes it too: 2.3.2's key must live as long as msm's copy, which is read only through it.
     *
     * @param theirs 2.3.2's bytes, {@link #UNWRITABLE}, or null on msm2-read
     * @throws StoreException as a failed backup: the session is stored again, both copies
     */
    void afterStore(SessionStore store, String node, SessionId id, byte[] theirs, int expirySeconds)
            throws StoreException {
        if (sharesKey) {
            return;
        }
        store.set(node, key(id), theirs == null || theirs == UNWRITABLE ? MARKER : theirs, expirySeconds);
    }

    /** Deletes 2.3.2's key of an ended or renamed session; a node that is down deletes it when back. */
    void delete(SessionStore store, NodeHealth health, String node, SessionId id) {
        if (sharesKey) {
            return; // deleted as msm's
        }
        try {
            health.deleteOrRepairLater(store, node, key(id));
        } catch (StoreException e) {
            LOG.info("the copy memcached-session-manager 2.3.2 reads of session {} was not deleted ({}); deleted once"
                    + " node {} answers again", id.masked(), e.getMessage(), node);
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

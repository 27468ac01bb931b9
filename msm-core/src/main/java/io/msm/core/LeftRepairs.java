package io.msm.core;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The deletes and markers a stopped engine could not do, because their memcached node did not
 * answer: handed to the next start of the same webapp in this JVM (a reload, a redeploy), which does
 * them before it offers the node. Dropped with the engine, a logout's delete that a hung node missed
 * left the session there, and the next start read it back as logged in.
 */
public final class LeftRepairs {
    final Map<String, List<NodeRepairs.Repair>> byNode;
    /** A delete was dropped unknown (past {@link NodeRepairs#MAX_PENDING}): said at stop. */
    final boolean droppedDeletes;

    /** Markers whose write needs the stopped engine first (a flag raised on another node). */
    final int notHandedOn;
    /** When the engine stopped: kept repairs nobody takes over are dropped after a day. */
    final long stoppedAtMillis = System.currentTimeMillis();

    LeftRepairs(Map<String, List<NodeRepairs.Repair>> byNode, boolean droppedDeletes, int notHandedOn) {
        this.byNode = Collections.unmodifiableMap(byNode);
        this.droppedDeletes = droppedDeletes;
        this.notHandedOn = notHandedOn;
    }

    /** @return markers left undone that the next start cannot do (they need the stopped engine) */
    public int notHandedOn() {
        return notHandedOn;
    }

    /** @return when the engine that left them stopped */
    public long stoppedAtMillis() {
        return stoppedAtMillis;
    }

    /** @return how many there are */
    public int size() {
        int n = 0;
        for (List<NodeRepairs.Repair> r : byNode.values()) {
            n += r.size();
        }
        return n;
    }

    /** @return the nodes they are for */
    public Set<String> nodes() {
        return byNode.keySet();
    }

    /** @return true when the stopped engine had dropped deletes it could not keep (a very long outage) */
    public boolean droppedDeletes() {
        return droppedDeletes;
    }
}

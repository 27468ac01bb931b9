package io.msm.core;

import java.util.Map;
import java.util.UUID;

import io.msm.testkit.MemcachedServer;

/** What a user of a sticky engine needs of a node, asked of real memcached: is it up, does a session get stored there. */
final class NodeProbe {
    private NodeProbe() {
    }

    static boolean up(SessionEngine engine, String nodeId) {
        for (NodeStatus node : engine.nodeStatus()) {
            if (node.id().equals(nodeId)) {
                return node.up();
            }
        }
        return false;
    }

    /** @return true when a new session's backup reached the server, under the engine's key prefix */
    static boolean storesANewSession(SessionEngine engine, MemcachedServer server, String prefix) {
        SessionId id = SessionId.parse(engine.newSessionId(UUID.randomUUID().toString().replace("-", "").toUpperCase(),
                "tomcat-1"));
        engine.sticky().afterRequest(new SessionSnapshot(id, 1_700_000_000_000L, 1_700_000_000_500L, 1800, null,
                new SessionContent(Map.of("user", "alice"), null)), new SessionState());
        return server.get(prefix + id) != null;
    }
}

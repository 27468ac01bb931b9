package io.msm.core;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;

import io.msm.shaded.net.spy.memcached.ConnectionFactory;
import io.msm.shaded.net.spy.memcached.MemcachedClient;
import io.msm.shaded.net.spy.memcached.MemcachedNode;

/**
 * The memcached client with its connection's own nodes in reach: {@link MemcachedClient#getNodeLocator}
 * gives read-only copies that refuse to say when the connection last read anything, or to drop it.
 */
class ConnectedClient extends MemcachedClient {

    ConnectedClient(ConnectionFactory factory, List<InetSocketAddress> addresses) throws IOException {
        super(factory, addresses);
    }

    /** The nodes the client's IO thread reads and writes; only to ask or end their connection. */
    final Collection<MemcachedNode> connectionNodes() {
        return mconn.getLocator().getAll();
    }
}

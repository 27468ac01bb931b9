package io.msm.core;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.msm.shaded.net.spy.memcached.ConnectionFactory;
import io.msm.shaded.net.spy.memcached.ConnectionObserver;
import io.msm.shaded.net.spy.memcached.MemcachedClient;

/**
 * A memcached client with SASL credentials. The TLS fork of spymemcached registers a client with
 * credentials as the observer of its own connection before it has made the connection, and fails
 * there. This client declines that early registration; {@link Relay}, one of the connection's
 * initial observers, hands it every connection event instead, the ones before it existed included.
 * The client authenticates each connection on that event, as it would have.
 */
final class AuthenticatingClient extends ConnectedClient {
    private AuthenticatingClient(ConnectionFactory factory, List<InetSocketAddress> addresses) throws IOException {
        super(factory, addresses);
    }

    /** @param relay among the factory's initial observers */
    static MemcachedClient create(ConnectionFactory factory, InetSocketAddress address, Relay relay)
            throws IOException {
        AuthenticatingClient client = new AuthenticatingClient(factory, Collections.singletonList(address));
        relay.attach(client);
        return client;
    }

    @Override
    public boolean addObserver(ConnectionObserver observer) {
        // Called by the constructor before the connection exists; the relay stands in for it.
        return getConnection() != null && super.addObserver(observer);
    }

    /** Passes connection events to the client once it exists, and those that came before. */
    static final class Relay implements ConnectionObserver {
        private ConnectionObserver client;
        private final List<SocketAddress> establishedBefore = new ArrayList<>();
        private final List<Integer> reconnectCounts = new ArrayList<>();

        synchronized void attach(ConnectionObserver target) {
            client = target;
            for (int i = 0; i < establishedBefore.size(); i++) {
                target.connectionEstablished(establishedBefore.get(i), reconnectCounts.get(i));
            }
            establishedBefore.clear();
            reconnectCounts.clear();
        }

        @Override
        public synchronized void connectionEstablished(SocketAddress address, int reconnectCount) {
            if (client == null) {
                establishedBefore.add(address);
                reconnectCounts.add(reconnectCount);
            } else {
                client.connectionEstablished(address, reconnectCount);
            }
        }

        @Override
        public synchronized void connectionLost(SocketAddress address) {
            if (client != null) {
                client.connectionLost(address);
            }
        }
    }
}

package io.msm.core;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.msm.shaded.net.spy.memcached.ConnectionFactory;
import io.msm.shaded.net.spy.memcached.ConnectionObserver;
import io.msm.shaded.net.spy.memcached.MemcachedClient;
import io.msm.shaded.net.spy.memcached.MemcachedNode;

/**
 * The memcached client, able to tell a connection that went silent and to drop it. Its
 * {@link MemcachedClient#getNodeLocator} gives read-only copies of the nodes, which refuse to say when
 * the connection last read anything; the connection's own nodes do.
 */
class ConnectedClient extends MemcachedClient {
    /** When the connection was last made or lost (nanoTime): a new one has read nothing yet, and is not silent. */
    private volatile long connectionChangedAt = System.nanoTime();

    ConnectedClient(ConnectionFactory factory, List<InetSocketAddress> addresses) throws IOException {
        super(factory, addresses);
        addObserver(new ConnectionObserver() {
            @Override
            public void connectionEstablished(SocketAddress sa, int reconnectCount) {
                connectionChangedAt = System.nanoTime();
            }

            @Override
            public void connectionLost(SocketAddress sa) {
                connectionChangedAt = System.nanoTime();
            }
        });
    }

    /**
     * @return true when the IO thread ended although nobody shut the client down: it catches only some
     *     exceptions, and an error (the heap full while it sized a value's buffer) ends it for good, the
     *     socket still open; every operation then only waits for its timeout
     */
    final boolean ioThreadDied() {
        return !shuttingDown && !mconn.isAlive();
    }

    /** @return true once the IO thread ended, shut down or dead */
    final boolean ioThreadEnded() {
        return !mconn.isAlive();
    }

    /**
     * @return true when a request waits for its answer on a connection made at least this long ago,
     *     over which nothing arrived for as long
     */
    final boolean silentFor(long millis) {
        return silentChannel(millis) != null;
    }

    /**
     * Shuts the reading side of the connection if it is still silent: the IO thread then reads its end,
     * as when memcached closes it, fails what waited on it, and connects again.
     */
    final void dropIfSilent(long millis) throws IOException {
        SocketChannel channel = silentChannel(millis); // asked again: an answer may have come meanwhile
        if (channel != null) {
            channel.shutdownInput();
        }
    }

    private SocketChannel silentChannel(long millis) {
        if (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connectionChangedAt) < millis) {
            return null;
        }
        for (MemcachedNode n : mconn.getLocator().getAll()) {
            SocketChannel channel = n.getChannel(); // read once: the IO thread clears it when reconnecting
            if (channel != null && channel.isConnected() && n.hasReadOp() && n.lastReadDelta() >= millis) {
                return channel;
            }
        }
        return null;
    }
}

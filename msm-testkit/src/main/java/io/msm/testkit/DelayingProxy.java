package io.msm.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;

/**
 * A TCP proxy on a free loopback port in front of a server, adding a delay to every answer: a
 * memcached in another site, as seen from this one. Its threads are daemons; {@link #close} ends
 * them and every connection.
 */
public final class DelayingProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int targetPort;
    private volatile long delayMillis;
    private volatile long requestDelayMillis;
    /** Until then (System.nanoTime), connections are closed as they come: a network cut between two hosts. */
    private volatile long cutUntilNanos = System.nanoTime(); // in the past: nanoTime may be negative
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    /** Connections accepted so far; those counted below {@link #holedBelow} are black-holed. */
    private volatile int accepted;
    private volatile int holedBelow;

    private DelayingProxy(int targetPort, long delayMillis) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        this.delayMillis = delayMillis;
        Thread acceptor = new Thread(this::accept, "delaying-proxy-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** @param delayMillis added before each chunk of the server's answers is passed on */
    public static DelayingProxy start(int targetPort, long delayMillis) {
        try {
            return new DelayingProxy(targetPort, delayMillis);
        } catch (IOException e) {
            throw new AssertionError("the delaying proxy did not start: " + e.getMessage(), e);
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** @return id:host:port for {@code memcachedNodes} */
    public String node(String id) {
        return id + ":127.0.0.1:" + port();
    }

    public void delay(long millis) {
        this.delayMillis = millis;
    }

    /**
     * Holds each chunk a client sends for this long before the server gets it: a write that is still
     * on its way when the client has long moved on.
     */
    public void delayRequests(long millis) {
        this.requestDelayMillis = millis;
    }

    /**
     * Cuts this path for the given time: every open connection is closed now, and connections made
     * meanwhile are closed at once. Only the clients behind this proxy lose the server; others reach it.
     */
    public void cut(long millis) {
        cutUntilNanos = System.nanoTime() + millis * 1_000_000L;
        sockets.forEach(DelayingProxy::closeQuietly);
        sockets.clear();
    }

    /**
     * The open connections go silent for good: what either side sends is swallowed, and neither sees
     * the connection close, as when a firewall between them forgets its state. Connections made
     * afterwards work.
     */
    public void blackhole() {
        holedBelow = accepted;
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                if (System.nanoTime() - cutUntilNanos < 0) {
                    closeQuietly(client);
                    continue;
                }
                Socket server = new Socket();
                // Each chunk is passed on at once: with Nagle's algorithm a small answer would wait
                // for the ACK of the one before, a delay of the proxy's own, not the one it adds.
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5_000);
                sockets.add(client);
                sockets.add(server);
                int number = accepted++;
                java.util.function.BooleanSupplier holed = () -> number < holedBelow;
                pump(client, server, () -> requestDelayMillis, holed);
                pump(server, client, () -> delayMillis, holed);
            } catch (IOException e) {
                // closed, or the server is gone: the client sees its connection fail
            }
        }
    }

    private void pump(Socket from, Socket to, LongSupplier delay, java.util.function.BooleanSupplier holed) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    if (holed.getAsBoolean()) {
                        continue; // swallowed; the connection stays open
                    }
                    long millis = delay.getAsLong();
                    if (millis > 0) {
                        Thread.sleep(millis);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // one side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "delaying-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        sockets.forEach(DelayingProxy::closeQuietly);
    }
}

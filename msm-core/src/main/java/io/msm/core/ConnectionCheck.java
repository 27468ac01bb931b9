package io.msm.core;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Asks a failing node directly, over one short connection made as the client makes its own, what
 * is wrong with how we talk to it: a TLS handshake that fails (unknown CA, wrong host name, no TLS
 * there), or credentials it refuses or asks for. The memcached client only says "Auth failure" or
 * logs the handshake's cause at DEBUG, for every attempt and without the node, while the node
 * counts as down. The password is sent as the client sends it (SASL PLAIN), never in a result.
 */
final class ConnectionCheck {
    private static final byte REQUEST = (byte) 0x80;
    private static final byte GET = 0x00;
    private static final byte SASL_AUTH = 0x21;
    private static final int AUTH_ERROR = 0x20;
    private static final int UNKNOWN_COMMAND = 0x81;
    private static final int KEY_NOT_FOUND = 0x01;

    private final TlsContext tls;
    private final boolean binary;
    private final String username;
    private final String password;
    private final int timeoutMillis;

    /**
     * @param tls null without TLS
     * @param username null when no credentials are configured
     */
    ConnectionCheck(TlsContext tls, boolean binaryProtocol, String username, String password, long timeoutMillis) {
        this.tls = tls;
        this.binary = binaryProtocol;
        this.username = username;
        this.password = password;
        this.timeoutMillis = (int) Math.min(Integer.MAX_VALUE, timeoutMillis);
    }

    /** @return what is wrong with how we talk to the node, or null when nothing is (or it does not answer) */
    String problem(MemcachedNode node) {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(node.host(), node.port()), timeoutMillis);
            plain.setSoTimeout(timeoutMillis);
            Socket socket;
            try {
                socket = secured(plain, node);
            } catch (java.net.SocketTimeoutException e) { // only the handshake reads before the first request
                return "TLS failed: no answer to the TLS handshake within " + timeoutMillis + " ms (the node hangs,"
                        + " or TLS is not on at that port); msm never falls back to a connection without TLS";
            }
            if (!binary) {
                // TLS 1.3 refuses a client certificate after the handshake: the first answer tells;
                // without TLS, the first answer tells a node that speaks only TLS or has no room.
                socket.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                int first = readFirst(socket);
                if (first != 'V') { // VERSION 1.6...
                    throw unexpected(socket, first, "version");
                }
                return null; // SASL needs the binary protocol
            }
            if (username == null) {
                int status;
                try {
                    status = exchange(socket, GET, "msm:auth-check", new byte[0]);
                } catch (java.net.SocketTimeoutException e) {
                    return endsTheLineAsText(socket) ? TEXT_ONLY : null; // else slow: an ordinary failure
                }
                return status == AUTH_ERROR ? "authentication failed: the node asks for SASL credentials (memcached"
                        + " runs with -S), and no username and password are set; set both on the <Manager>" : null;
            }
            int status;
            try {
                status = exchange(socket, SASL_AUTH, "PLAIN", credentials());
            } catch (java.net.SocketTimeoutException e) {
                return endsTheLineAsText(socket) ? TEXT_ONLY : null; // else slow: an ordinary failure
            }
            if (status == AUTH_ERROR) {
                return "authentication failed: the node refused username '" + username
                        + "' and its password (SASL PLAIN); check both";
            }
            if (status == UNKNOWN_COMMAND) {
                return "authentication failed: the node does not offer SASL (memcached runs without -S), yet"
                        + " username is set; remove username and password, or start memcached with -S";
            }
            return null;
        } catch (SSLException e) {
            return "TLS failed: " + rootCause(e) + (tls.verifyHostnames() ? "" : " (host names not verified)")
                    + "; msm never falls back to a connection without TLS";
        } catch (ClosedAtFirstRequest e) {
            if (binary && answers(node, true)) { // a text-only proxy may close at a binary request
                return TEXT_ONLY;
            }
            if (tls != null) {
                return null;
            }
            return "closed the connection at the first request, as memcached with TLS (-Z) does to a client without"
                    + " TLS" + (binary ? "" : ", and as memcached -B binary does to a text-protocol client (then leave"
                    + " memcachedProtocol out)") + ": if it runs with TLS, set tls=\"true\" (and tlsTrustStoreFile"
                    + " unless the JVM's trust store holds its CA)";
        } catch (UnexpectedAnswer e) {
            return e.getMessage();
        } catch (IOException e) {
            return null; // not reachable: an ordinary node failure, reported as such
        }
    }

    /**
     * After a binary request went unanswered: a text-only node read it as the start of a line and
     * waits for the line's end, which it then answers with ERROR. A node that speaks binary but is
     * slow takes the line's bytes for what follows the request, and answers in binary or not at all.
     */
    private boolean endsTheLineAsText(Socket socket) {
        try {
            socket.getOutputStream().write("\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return socket.getInputStream().read() == 'E'; // ERROR
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * @return true when the node answers one request, in the configured protocol, on a connection made
     *     for it now (TLS as configured): it is up, whatever the client's connection to it says
     */
    boolean answers(MemcachedNode node) {
        return answers(node, !binary);
    }

    /** @param text asks {@code version} in the text protocol; else a GET in binary, after SASL if configured */
    private boolean answers(MemcachedNode node, boolean text) {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(node.host(), node.port()), timeoutMillis);
            plain.setSoTimeout(timeoutMillis);
            Socket socket = secured(plain, node);
            if (text) {
                socket.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                return socket.getInputStream().read() == 'V';
            }
            if (username != null) {
                if (exchange(socket, SASL_AUTH, "PLAIN", credentials()) != 0) {
                    return false; // refused: not the silent connection this is asked about
                }
            }
            int status = exchange(socket, GET, "msm:probe", new byte[0]);
            return status == 0 || status == KEY_NOT_FOUND;
        } catch (IOException e) {
            return false;
        }
    }

    private static final String TEXT_ONLY = "answers the text protocol but not the binary one, which msm speaks by"
            + " default (memcached -B ascii, or a proxy such as mcrouter or twemproxy): set"
            + " memcachedProtocol=\"text\" (SASL credentials need the binary protocol)";

    /** SASL PLAIN's message, as the client sends it. */
    private byte[] credentials() {
        return ("\0" + username + "\0" + password).getBytes(StandardCharsets.UTF_8);
    }

    /** TLS as the client makes it, host name verification included; the plain socket without TLS. */
    private Socket secured(Socket plain, MemcachedNode node) throws IOException {
        if (tls == null) {
            return plain;
        }
        SSLSocket secured = (SSLSocket) tls.sslContext().getSocketFactory().createSocket(plain, node.host(),
                node.port(), true);
        if (tls.verifyHostnames()) {
            SSLParameters parameters = secured.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            secured.setSSLParameters(parameters);
        }
        secured.startHandshake();
        return secured;
    }

    /** The node accepted the connection and then reset or closed it without answering. */
    private static final class ClosedAtFirstRequest extends IOException {
        private static final long serialVersionUID = 1L;
    }

    /** The node answered, but not as memcached answers the request sent. */
    private static final class UnexpectedAnswer extends IOException {
        private static final long serialVersionUID = 1L;

        UnexpectedAnswer(String message) {
            super(message);
        }
    }

    /** @return the first byte of the node's answer */
    private static int readFirst(Socket socket) throws IOException {
        int first;
        try {
            first = socket.getInputStream().read();
        } catch (java.net.SocketTimeoutException e) {
            throw e; // slow, not closed: an ordinary failure
        } catch (java.net.SocketException e) {
            throw new ClosedAtFirstRequest(); // reset
        }
        if (first < 0) {
            throw new ClosedAtFirstRequest();
        }
        return first;
    }

    /**
     * memcached answers a client it has no room for ({@code -c}, the connection limit) with one line
     * of text in either protocol, then closes; anything else behind the port (an HTTP server, sshd)
     * answers in its own way. The first line, begun with {@code first}, says which.
     */
    private static UnexpectedAnswer unexpected(Socket socket, int first, String request) throws IOException {
        StringBuilder line = new StringBuilder();
        java.io.InputStream in = socket.getInputStream();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(socket.getSoTimeout());
        // A node that sends its line a byte at a time holds this check for one timeout in all, not one a byte.
        for (int c = first; c >= 0 && c != '\r' && c != '\n' && line.length() < 80; c = in.read()) {
            line.append(c >= 0x20 && c < 0x7F ? (char) c : '.');
            if (System.nanoTime() >= deadline) {
                break;
            }
        }
        if (line.toString().contains("Too many open connections")) {
            return new UnexpectedAnswer("refused the connection: the node answered '" + line
                    + "'; raise its connection limit (memcached -c)");
        }
        return new UnexpectedAnswer("answered a " + request + " request with '" + line + "', which is not how memcached"
                + " answers it: does memcachedNodes name memcached's port" + (request.equals("version") ? ", or does"
                + " it need SASL (then leave memcachedProtocol out and set username and password)" : "") + "?");
    }

    /** The innermost message: "PKIX path building failed" tells less than what it wraps. */
    private static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return t == e || message.equals(e.getMessage()) ? message : message + " (" + e.getMessage() + ")";
    }

    /** Sends one request and returns the status of its answer. */
    private static int exchange(Socket socket, byte opcode, String key, byte[] value) throws IOException {
        byte[] k = key.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer request = ByteBuffer.allocate(24 + k.length + value.length);
        request.put(REQUEST).put(opcode).putShort((short) k.length).put((byte) 0).put((byte) 0).putShort((short) 0)
                .putInt(k.length + value.length).putInt(0).putLong(0).put(k).put(value);
        OutputStream out = socket.getOutputStream();
        out.write(request.array());
        out.flush();
        int first = readFirst(socket);
        if (first != 0x81) {
            throw unexpected(socket, first, "binary-protocol");
        }
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] header = new byte[24];
        header[0] = (byte) first;
        in.readFully(header, 1, 23);
        return ((header[6] & 0xFF) << 8) | (header[7] & 0xFF);
    }
}

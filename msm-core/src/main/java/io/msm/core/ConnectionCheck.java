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
            Socket socket = plain;
            if (tls != null) {
                SSLSocket secured = (SSLSocket) tls.sslContext().getSocketFactory().createSocket(plain, node.host(),
                        node.port(), true);
                if (tls.verifyHostnames()) {
                    SSLParameters parameters = secured.getSSLParameters();
                    parameters.setEndpointIdentificationAlgorithm("HTTPS");
                    secured.setSSLParameters(parameters);
                }
                try {
                    secured.startHandshake();
                } catch (java.net.SocketTimeoutException e) {
                    return "TLS failed: no answer to the TLS handshake within " + timeoutMillis + " ms (is TLS on"
                            + " at that port?); msm never falls back to a connection without TLS";
                }
                socket = secured;
            }
            if (!binary) {
                if (tls != null) {
                    // TLS 1.3 refuses a client certificate after the handshake: the first answer tells.
                    socket.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    socket.getInputStream().read();
                }
                return null; // SASL needs the binary protocol
            }
            if (username == null) {
                int status = exchange(socket, GET, "msm:auth-check", new byte[0]);
                return status == AUTH_ERROR ? "authentication failed: the node asks for SASL credentials (memcached"
                        + " runs with -S), and no username and password are set; set both on the <Manager>" : null;
            }
            byte[] credentials = ("\0" + username + "\0" + password).getBytes(StandardCharsets.UTF_8);
            int status = exchange(socket, SASL_AUTH, "PLAIN", credentials);
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
        } catch (IOException e) {
            return null; // not reachable: an ordinary node failure, reported as such
        }
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
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] header = new byte[24];
        in.readFully(header);
        if (header[0] != (byte) 0x81) {
            throw new IOException("not a binary-protocol answer");
        }
        return ((header[6] & 0xFF) << 8) | (header[7] & 0xFF);
    }
}

package io.msm.core;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Asks a failing node directly, over one short binary-protocol connection, whether it refuses us
 * for authentication: the memcached client only says "Auth failure", for every operation and
 * without the node, while the node counts as down. The password is sent as the client sends it
 * (SASL PLAIN) and never appears in a result.
 */
final class SaslCheck {
    private static final byte REQUEST = (byte) 0x80;
    private static final byte GET = 0x00;
    private static final byte SASL_AUTH = 0x21;
    private static final int AUTH_ERROR = 0x20;
    private static final int UNKNOWN_COMMAND = 0x81;

    private final String username;
    private final String password;
    private final int timeoutMillis;

    /** @param username null when no credentials are configured */
    SaslCheck(String username, String password, long timeoutMillis) {
        this.username = username;
        this.password = password;
        this.timeoutMillis = (int) Math.min(Integer.MAX_VALUE, timeoutMillis);
    }

    /** @return what the node says is wrong with our authentication, or null when nothing is (or it does not answer) */
    String problem(MemcachedNode node) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(node.host(), node.port()), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            if (username == null) {
                int status = exchange(socket, GET, "msm:auth-check", new byte[0]);
                return status == AUTH_ERROR ? "authentication failed: the node asks for SASL credentials (memcached"
                        + " runs with -S), and no username and password are set; set both on the <Manager>" : null;
            }
            byte[] plain = ("\0" + username + "\0" + password).getBytes(StandardCharsets.UTF_8);
            int status = exchange(socket, SASL_AUTH, "PLAIN", plain);
            if (status == AUTH_ERROR) {
                return "authentication failed: the node refused username '" + username
                        + "' and its password (SASL PLAIN); check both";
            }
            if (status == UNKNOWN_COMMAND) {
                return "authentication failed: the node does not offer SASL (memcached runs without -S), yet"
                        + " username is set; remove username and password, or start memcached with -S";
            }
            return null;
        } catch (IOException e) {
            return null; // not reachable: an ordinary node failure, reported as such
        }
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

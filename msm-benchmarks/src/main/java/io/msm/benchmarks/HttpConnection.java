package io.msm.benchmarks;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One keep-alive HTTP/1.1 connection to 127.0.0.1, as small as a load generator needs: GET with a
 * session cookie, status, body and the JSESSIONID of a Set-Cookie. It costs the generator far less
 * CPU than a general client, which matters when both share two cores with the server.
 */
final class HttpConnection implements Closeable {
    private static final int TIMEOUT_MILLIS = 10_000;
    /**
     * A connection idle this long is closed before the next request, as mod_proxy's {@code ttl}
     * does: Tomcat closes keep-alive connections idle for 20 s ({@code keepAliveTimeout}), and a
     * request sent on one at that moment fails without the server having read it.
     */
    private static final long IDLE_NANOS = 15_000_000_000L;

    private final int port;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private long lastUsedNanos;

    HttpConnection(int port) {
        this.port = port;
    }

    /** The parts of a response the benchmark checks. */
    static final class Response {
        final int status;
        final String body;
        /** The benchmark webapp's X-Counter header (the session's counter), or null. */
        final String counter;
        /** JSESSIONID of a Set-Cookie header, or null. */
        final String newSessionId;

        Response(int status, String body, String newSessionId, String counter) {
            this.status = status;
            this.body = body;
            this.newSessionId = newSessionId;
            this.counter = counter;
        }
    }

    /** @param sessionId sent as the JSESSIONID cookie, or null for none */
    Response get(String path, String sessionId) throws IOException {
        long now = System.nanoTime();
        if (socket != null && now - lastUsedNanos > IDLE_NANOS) {
            close();
        }
        lastUsedNanos = now;
        if (socket == null) {
            open();
        }
        StringBuilder request = new StringBuilder(160).append("GET ").append(path)
                .append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if (sessionId != null) {
            request.append("Cookie: JSESSIONID=").append(sessionId).append("\r\n");
        }
        try {
            out.write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return read();
        } catch (IOException | RuntimeException e) {
            close(); // a broken or misread connection is never reused
            throw e;
        }
    }

    /** @throws java.net.ConnectException when nothing listens: no byte of the request was sent */
    private void open() throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
            in = new BufferedInputStream(socket.getInputStream(), 8192);
            out = socket.getOutputStream();
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private Response read() throws IOException {
        String statusLine = line();
        if (!statusLine.startsWith("HTTP/1.1 ") || statusLine.length() < 12) {
            throw new IOException("not an HTTP/1.1 status line: " + statusLine);
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        int length = -1;
        boolean chunked = false;
        boolean closeAfter = false;
        String newSessionId = null;
        String counter = null;
        for (String header = line(); !header.isEmpty(); header = line()) {
            int colon = header.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = header.substring(0, colon).trim().toLowerCase();
            String value = header.substring(colon + 1).trim();
            switch (name) {
                case "content-length":
                    length = Integer.parseInt(value);
                    break;
                case "transfer-encoding":
                    chunked = value.equalsIgnoreCase("chunked");
                    break;
                case "connection":
                    closeAfter = value.equalsIgnoreCase("close");
                    break;
                case "set-cookie":
                    if (value.startsWith("JSESSIONID=")) {
                        int end = value.indexOf(';');
                        newSessionId = value.substring("JSESSIONID=".length(), end < 0 ? value.length() : end);
                    }
                    break;
                case "x-counter":
                    counter = value;
                    break;
                default:
                    break;
            }
        }
        byte[] body = chunked ? chunks() : exactly(Math.max(length, 0));
        if (closeAfter) {
            close();
        }
        return new Response(status, new String(body, StandardCharsets.UTF_8), newSessionId, counter);
    }

    private byte[] chunks() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = line();
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
            if (size == 0) {
                while (!line().isEmpty()) {
                    // trailers: none expected, skipped
                }
                return body.toByteArray();
            }
            body.write(exactly(size));
            line();
        }
    }

    private byte[] exactly(int n) throws IOException {
        byte[] data = in.readNBytes(n);
        if (data.length != n) {
            throw new IOException("connection closed after " + data.length + " of " + n + " body bytes");
        }
        return data;
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed by the server");
            }
            if (c == '\n') {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
            sb.append((char) c);
        }
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing a loopback socket: nothing to do about it
            }
            socket = null;
        }
    }
}

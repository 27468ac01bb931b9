package io.msm.tomcat.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One user: keeps the session cookie between requests, whichever Tomcat answers, as a browser
 * behind a balancer does. Redirects are not followed, so tests see each answer.
 */
public final class Browser {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private String sessionId;

    /** The answer to one request; {@code lines} holds the servlet's key=value lines. */
    public record Page(int status, String body, Map<String, String> lines, String newSessionCookie) {
        public String get(String key) {
            return lines.get(key);
        }
    }

    public String sessionId() {
        return sessionId;
    }

    public void sessionId(String id) {
        this.sessionId = id;
    }

    public Page get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    public Page getWithBasicAuth(String url, String user, String password) {
        String token = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Basic " + token).GET());
    }

    public Page postForm(String url, String form) {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
    }

    /**
     * Sends the given Cookie header instead of this browser's own cookie, as a browser does for a
     * webapp below another one that set a cookie of the same name at "/".
     */
    public Page getWithCookieHeader(String url, String cookieHeader) {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Cookie", cookieHeader).GET(), false);
    }

    private Page send(HttpRequest.Builder request) {
        return send(request, true);
    }

    private Page send(HttpRequest.Builder request, boolean ownCookie) {
        request.timeout(Duration.ofSeconds(20));
        if (ownCookie && sessionId != null) {
            request.header("Cookie", "JSESSIONID=" + sessionId);
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            String cookie = null;
            for (String header : response.headers().allValues("Set-Cookie")) {
                if (header.startsWith("JSESSIONID=")) {
                    cookie = header.substring("JSESSIONID=".length(), header.indexOf(';'));
                    sessionId = cookie;
                }
            }
            Map<String, String> lines = new LinkedHashMap<>();
            for (String line : response.body().split("\r?\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    lines.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            return new Page(response.statusCode(), response.body(), lines, cookie);
        } catch (IOException e) {
            throw new AssertionError("request to " + request.build().uri() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

}

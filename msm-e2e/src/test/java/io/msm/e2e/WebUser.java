package io.msm.e2e;

import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** A browser: keeps every cookie it is given, follows no redirect. */
final class WebUser {
    private final HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL))
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

    /** An answer, its key=value lines, and where it redirects to (null when it does not). */
    record Page(int status, String body, Map<String, String> lines, String location) {
        String get(String key) {
            return lines.get(key);
        }
    }

    Page get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    /** A request with a cookie the test makes up, such as a session id planted in memcached. */
    Page getWithCookie(String url, String cookie) {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Cookie", cookie).GET());
    }

    Page post(String url, String form) {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
    }

    private Page send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            Map<String, String> lines = new LinkedHashMap<>();
            for (String line : r.body().split("\r?\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    lines.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            return new Page(r.statusCode(), r.body(), lines, r.headers().firstValue("Location").orElse(null));
        } catch (IOException e) {
            throw new AssertionError("request failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}

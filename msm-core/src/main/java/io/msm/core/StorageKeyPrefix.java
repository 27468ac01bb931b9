package io.msm.core;

import java.util.List;

/**
 * Builds the text put before every session id in memcached from {@code storageKeyPrefix}, a
 * comma-separated list of {@code host}, {@code context}, {@code webappVersion} and
 * {@code static:<text>}. The default, {@code host,context}, keeps two webapps that share memcached
 * from ever reading each other's sessions.
 */
public final class StorageKeyPrefix {
    private static final String FORM = "a comma-separated list of host, host.hash, context, context.hash,"
            + " webappVersion and static:<text>";

    private StorageKeyPrefix() {
    }

    static void validate(String spec, List<String> errors) {
        for (String token : spec.split(",")) {
            String t = token.trim();
            if (!(t.equals("host") || t.equals("context") || t.equals("webappVersion") || t.equals("host.hash")
                    || t.equals("context.hash")
                    || (t.startsWith("static:") && t.length() > "static:".length()))) {
                errors.add("storageKeyPrefix: '" + t + "' in '" + spec + "' is not a part; write " + FORM);
            }
        }
    }

    /** @return true when the prefix tells two Hosts' webapps of one path apart */
    public static boolean namesTheHost(String spec) {
        return anyPart(spec, t -> t.equals("host") || t.equals("host.hash"));
    }

    /**
     * @return true when the prefix tells two webapps apart: it names the context, or a static text
     *     the operator chose (one per webapp, presumably)
     */
    static boolean namesTheWebapp(String spec) {
        return anyPart(spec, t -> t.equals("context") || t.equals("context.hash") || t.startsWith("static:"));
    }

    /**
     * @return true when the prefix changes with the webapp's version ({@code ##2} in the context's name,
     *     or {@code webappVersion}): each version of a parallel deployment reads only its own sessions
     */
    public static boolean namesTheVersion(String spec) {
        return anyPart(spec, t -> t.equals("context") || t.equals("context.hash") || t.equals("webappVersion"));
    }

    private static boolean anyPart(String spec, java.util.function.Predicate<String> test) {
        for (String token : spec.split(",")) {
            if (test.test(token.trim())) {
                return true;
            }
        }
        return false;
    }

    /**
     * @return the prefix, safe as part of a memcached key and unambiguous: each part is escaped so
     *     that it holds no '_', and parts end with '_'. No two (host, context, version, id) give one
     *     key, whatever the characters of the context path ("/x" with id "y_…" is not "/x_y" with "…").
     */
    public static String build(String spec, String host, String contextPath, String webappVersion) {
        StringBuilder sb = new StringBuilder();
        for (String token : spec.split(",")) {
            String t = token.trim();
            String part = value(t, host, contextPath, webappVersion);
            if (part == null || part.isEmpty()) {
                part = t.equals("context") ? "ROOT" : t.equals("webappVersion") ? "0" : "";
            }
            sb.append(safe(part)).append('_');
        }
        return sb.toString();
    }

    /**
     * memcached-session-manager 2.3.2's key prefix for the same spec: the non-empty parts, unescaped,
     * joined with ':' and ended by '_'; empty when no part has a value (its default, webappVersion,
     * for a webapp without a version). Its keys of the other records put their kind before this.
     */
    public static String buildMsm2(String spec, String host, String contextPath, String webappVersion) {
        List<String> parts = new java.util.ArrayList<>();
        for (String token : spec.split(",")) {
            String part = value(token.trim(), host, contextPath, webappVersion);
            if (part != null && !part.trim().isEmpty()) {
                parts.add(part);
            }
        }
        return parts.isEmpty() ? "" : String.join(":", parts) + "_";
    }

    /** @return the part's value as the container names it (the empty context of ROOT, no version) */
    private static String value(String part, String host, String contextPath, String webappVersion) {
        switch (part) {
            case "host":
                return host;
            case "host.hash":
                return hash(host);
            case "context":
                return contextPath;
            case "context.hash":
                return hash(contextPath == null ? "" : contextPath);
            case "webappVersion":
                return webappVersion;
            default: // static:<text>; validate() reported anything else
                return part.startsWith("static:") ? part.substring("static:".length()) : part;
        }
    }

    /** The first 8 hexadecimal digits of the SHA-256 of the text, as memcached-session-manager 2.3.2 hashed. */
    static String hash(String text) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest((text == null ? "" : text).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(8);
            for (int i = 0; i < 4; i++) {
                sb.append(Character.forDigit((digest[i] >> 4) & 15, 16)).append(Character.forDigit(digest[i] & 15, 16));
            }
            return sb.toString();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** Percent-escapes '%', '_' and every byte outside printable ASCII, so a part never holds a separator. */
    static String safe(String part) {
        StringBuilder sb = new StringBuilder(part.length());
        for (byte b : part.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c <= ' ' || c >= 127 || c == '%' || c == '_') {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            } else {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }
}

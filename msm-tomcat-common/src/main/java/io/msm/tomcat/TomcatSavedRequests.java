package io.msm.tomcat;

import static io.msm.tomcat.FormLoginNotes.readBytes;
import static io.msm.tomcat.FormLoginNotes.readCount;
import static io.msm.tomcat.FormLoginNotes.readString;
import static io.msm.tomcat.FormLoginNotes.writeBytes;
import static io.msm.tomcat.FormLoginNotes.writeString;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import javax.servlet.http.Cookie;

import org.apache.catalina.authenticator.SavedRequest;
import org.apache.tomcat.util.buf.ByteChunk;

/**
 * Tomcat's saved request (every line, 7 to 11) as plain fields, with what the replay of a page needs
 * and no credential of another login that msm can tell: of the headers, those a browser sends with
 * any page and those a proxy adds (a custom header may carry an API token); of the cookies, names
 * and values (all a request's cookies carry), but no session cookie of the Host's webapps and no
 * single sign-on cookie. The Cookie header is made again from the cookies kept.
 */
final class TomcatSavedRequests implements SavedRequests {
    /** Newer Tomcats (9.0.113 and 11.0.15 have it, 9.0.104 not) tell "no timeout saved" from "never expires" by it. */
    private static final Method OPTIONAL_TIMEOUT = method("getOriginalMaxInactiveIntervalOptional");
    /** Tomcat 8.5 and later save the timeout the login page shortened; Tomcat 7 does not. */
    private static final Method TIMEOUT = method("getOriginalMaxInactiveInterval");
    private static final Method SET_TIMEOUT = method("setOriginalMaxInactiveInterval", int.class);
    /**
     * The headers kept: what a browser sends with a page, and what a proxy in front adds. Any other
     * (Authorization, an X-Auth-Token or X-Api-Key) may be a credential, and is not written to memcached.
     * The Cookie header goes cookie by cookie (below).
     */
    private static final Set<String> KEPT_HEADERS = new HashSet<>(Arrays.asList("accept", "accept-charset",
            "accept-encoding", "accept-language", "cache-control", "connection", "content-encoding",
            "content-language", "content-length", "content-type", "dnt", "forwarded", "front-end-https", "host",
            "keep-alive", "origin", "pragma", "priority", "referer", "te", "transfer-encoding",
            "upgrade-insecure-requests", "user-agent", "via", "x-forwarded-for", "x-forwarded-host",
            "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-proto", "x-forwarded-server", "x-forwarded-ssl",
            "x-real-ip", "x-requested-with"));
    /** Not X-Forwarded-* as a whole: a proxy that logs users in passes their token as X-Forwarded-Access-Token. */
    private static final String[] KEPT_HEADER_PREFIXES = {"sec-ch-", "sec-fetch-"};
    /** The smallest an item takes: a string's length alone. */
    private static final int MIN_ITEM = 4;
    /** Lower case: the session cookies of the Host's webapps, and the single sign-on cookie. */
    private final Set<String> leftOutCookies;

    /** @param leftOutCookies names of cookies that carry a login or a session id, not written to memcached */
    TomcatSavedRequests(Set<String> leftOutCookies) {
        this.leftOutCookies = new HashSet<>();
        for (String name : leftOutCookies) {
            this.leftOutCookies.add(name.toLowerCase(Locale.ROOT));
        }
    }

    /** @return true for the session cookie of a webapp of the Host, or the single sign-on cookie */
    boolean leavesOutCookie(String name) {
        return leftOutCookies.contains(name.toLowerCase(Locale.ROOT));
    }

    static boolean keepsHeader(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (KEPT_HEADERS.contains(lower)) {
            return true;
        }
        for (String prefix : KEPT_HEADER_PREFIXES) {
            if (lower.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void write(Object savedRequest, DataOutputStream out) throws IOException {
        SavedRequest r = (SavedRequest) savedRequest;
        writeString(out, r.getMethod());
        writeString(out, r.getRequestURI());
        writeString(out, r.getDecodedRequestURI());
        writeString(out, r.getQueryString());
        writeString(out, r.getContentType());
        ByteChunk body = r.getBody();
        if (body == null) {
            out.writeInt(-1);
        } else {
            writeBytes(out, body.getBuffer(), body.getStart(), body.getLength());
        }
        Integer timeout = originalTimeout(r);
        out.writeBoolean(timeout != null);
        if (timeout != null) {
            out.writeInt(timeout);
        }
        List<Cookie> cookies = list(r.getCookies());
        cookies.removeIf(c -> leavesOutCookie(c.getName()));
        out.writeInt(cookies.size());
        for (Cookie c : cookies) {
            writeString(out, c.getName());
            writeString(out, c.getValue());
        }
        List<String> names = list(r.getHeaderNames());
        names.removeIf(n -> !keepsHeader(n));
        out.writeInt(names.size());
        for (String name : names) {
            writeString(out, name);
            List<String> values = list(r.getHeaderValues(name));
            out.writeInt(values.size());
            for (String value : values) {
                writeString(out, value);
            }
        }
        List<Locale> locales = list(r.getLocales());
        out.writeInt(locales.size());
        for (Locale l : locales) {
            writeString(out, l.toLanguageTag()); // keeps the script (sr-Latn-RS), which Tomcat parsed it with
        }
    }

    @Override
    public Object read(DataInputStream in) throws IOException {
        SavedRequest r = new SavedRequest();
        r.setMethod(readString(in));
        r.setRequestURI(readString(in));
        r.setDecodedRequestURI(readString(in));
        r.setQueryString(readString(in));
        r.setContentType(readString(in));
        byte[] body = readBytes(in);
        if (body != null) {
            ByteChunk chunk = new ByteChunk();
            chunk.setBytes(body, 0, body.length);
            r.setBody(chunk);
        }
        if (in.readBoolean()) {
            int timeout = in.readInt();
            if (SET_TIMEOUT != null) { // Tomcat 7 has no such field: the replay keeps the session's timeout
                try {
                    SET_TIMEOUT.invoke(r, timeout);
                } catch (ReflectiveOperationException e) {
                    throw new IOException("the saved request's timeout: " + e, e);
                }
            }
        }
        StringBuilder cookieHeader = new StringBuilder();
        for (int i = readCount(in, 2 * MIN_ITEM); i > 0; i--) {
            String name = readString(in);
            String value = readString(in);
            try {
                r.addCookie(new Cookie(name, value));
            } catch (IllegalArgumentException e) {
                throw new IOException("a cookie Tomcat refuses: " + e.getMessage(), e);
            }
            cookieHeader.append(cookieHeader.length() == 0 ? "" : "; ").append(name).append('=').append(value);
        }
        for (int i = readCount(in, 2 * MIN_ITEM); i > 0; i--) {
            String name = readString(in);
            for (int j = readCount(in, MIN_ITEM); j > 0; j--) {
                r.addHeader(name, readString(in));
            }
        }
        if (cookieHeader.length() > 0) {
            r.addHeader("Cookie", cookieHeader.toString()); // for a webapp that reads the header itself
        }
        for (int i = readCount(in, MIN_ITEM); i > 0; i--) {
            r.addLocale(Locale.forLanguageTag(nonNull(readString(in))));
        }
        return r;
    }

    /**
     * @return the session's timeout from before the login page shortened it, or null; read through
     *     the newer getter where there is one, since the older one says -1 for both "none" and "never"
     */
    private static Integer originalTimeout(SavedRequest r) throws IOException {
        try {
            if (OPTIONAL_TIMEOUT != null) {
                return (Integer) OPTIONAL_TIMEOUT.invoke(r);
            }
            if (TIMEOUT == null) {
                return null; // Tomcat 7
            }
            int t = (Integer) TIMEOUT.invoke(r);
            return t == -1 ? null : t;
        } catch (ReflectiveOperationException e) {
            throw new IOException("the saved request's timeout: " + e, e);
        }
    }

    private static String nonNull(String s) throws IOException {
        if (s == null) {
            throw new IOException("a locale without its tag");
        }
        return s;
    }

    /** @return the saved request's method of that name, or null on a Tomcat line without it */
    private static Method method(String name, Class<?>... parameters) {
        try {
            return SavedRequest.class.getMethod(name, parameters);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static <T> List<T> list(Iterator<T> it) {
        List<T> list = new ArrayList<>();
        it.forEachRemaining(list::add);
        return list;
    }
}

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
 * Tomcat 8.5 to 11's saved request as plain fields. Of the cookies, their names and values: all a
 * request's cookies carry. Credentials of other logins (Authorization headers, the single sign-on
 * cookie) are left out; the Cookie header is made again from the cookies kept.
 */
final class TomcatSavedRequests implements SavedRequests {
    /** Newer Tomcats (9.0.113 and 11.0.15 have it, 9.0.104 not) tell "no timeout saved" from "never expires" by it. */
    private static final Method OPTIONAL_TIMEOUT = optionalTimeout();
    /**
     * Credentials of the user's other logins, not of this session's: not written to memcached. The
     * cookies travel one by one (below), the raw Cookie header is made again from them.
     */
    private static final Set<String> LEFT_OUT_HEADERS = new HashSet<>(
            Arrays.asList("authorization", "proxy-authorization", "cookie"));
    /** The smallest an item takes: a string's length alone. */
    private static final int MIN_ITEM = 4;
    /** The name of Tomcat's single sign-on cookie: a login of its own, which the replay does not need. */
    private final String ssoCookie;

    /** @param ssoCookie the name of the single sign-on cookie ({@code SingleSignOn cookieName}) */
    TomcatSavedRequests(String ssoCookie) {
        this.ssoCookie = ssoCookie;
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
        cookies.removeIf(c -> c.getName().equalsIgnoreCase(ssoCookie));
        out.writeInt(cookies.size());
        for (Cookie c : cookies) {
            writeString(out, c.getName());
            writeString(out, c.getValue());
        }
        List<String> names = list(r.getHeaderNames());
        names.removeIf(n -> LEFT_OUT_HEADERS.contains(n.toLowerCase(Locale.ROOT)));
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
            r.setOriginalMaxInactiveInterval(in.readInt());
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
        if (OPTIONAL_TIMEOUT == null) {
            int t = r.getOriginalMaxInactiveInterval();
            return t == -1 ? null : t;
        }
        try {
            return (Integer) OPTIONAL_TIMEOUT.invoke(r);
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

    private static Method optionalTimeout() {
        try {
            return SavedRequest.class.getMethod("getOriginalMaxInactiveIntervalOptional");
        } catch (NoSuchMethodException e) {
            return null; // an older Tomcat: -1 is "none" there
        }
    }

    private static <T> List<T> list(Iterator<T> it) {
        List<T> list = new ArrayList<>();
        it.forEachRemaining(list::add);
        return list;
    }
}

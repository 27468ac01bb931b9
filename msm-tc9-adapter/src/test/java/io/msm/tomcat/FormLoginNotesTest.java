package io.msm.tomcat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.servlet.http.Cookie;

import org.apache.catalina.authenticator.SavedRequest;
import org.apache.tomcat.util.buf.ByteChunk;
import org.junit.jupiter.api.Test;

class FormLoginNotesTest {
    private final SavedRequests requests = new TomcatSavedRequests(java.util.Set.of("JSESSIONID", "JSESSIONIDSSO"));

    @Test
    void theSavedRequestAndTheExpectedIdComeBackAsTomcatSavedThem() throws IOException {
        SavedRequest saved = saved();
        Map<String, Object> notes = new HashMap<>();
        FormLoginNotes.decode(FormLoginNotes.encode(saved, "ABC-n1.tomcat1", requests), requests, notes);

        assertEquals("ABC-n1.tomcat1", notes.get(FormLoginNotes.SESSION_ID_NOTE));
        SavedRequest back = (SavedRequest) notes.get(FormLoginNotes.REQUEST_NOTE);
        assertEquals("POST", back.getMethod());
        assertEquals("/app/secure/a%20b", back.getRequestURI());
        assertEquals("/app/secure/a b", back.getDecodedRequestURI());
        assertEquals("x=1", back.getQueryString());
        assertEquals("application/x-www-form-urlencoded", back.getContentType());
        ByteChunk body = back.getBody();
        assertArrayEquals("form=draft&note=ü".getBytes(StandardCharsets.UTF_8),
                Arrays.copyOfRange(body.getBuffer(), body.getStart(), body.getEnd()));
        assertEquals(1800, back.getOriginalMaxInactiveInterval());
        List<String> cookies = new ArrayList<>();
        back.getCookies().forEachRemaining(c -> cookies.add(c.getName() + "=" + c.getValue()));
        assertEquals(List.of("theme=dark", "lang=de"), cookies, "the single sign-on cookie left out");
        List<String> accept = new ArrayList<>();
        back.getHeaderValues("Accept").forEachRemaining(accept::add);
        assertEquals(List.of("text/html", "*/*"), accept);
        List<Locale> locales = new ArrayList<>();
        back.getLocales().forEachRemaining(locales::add);
        assertEquals(List.of(Locale.GERMANY, Locale.forLanguageTag("sr-Latn-RS")), locales, "with their scripts");
        assertEquals(List.of("Accept", "Content-Type", "Cookie"), names(back), "credentials of other logins left out");
        assertEquals("theme=dark; lang=de", back.getHeaderValues("Cookie").next(), "the Cookie header, without the SSO cookie");
    }

    /**
     * A browser sends the cookies of every webapp whose path covers the page: another webapp's session
     * id, and headers with API tokens, would reach memcached in clear. The replay needs neither; it
     * keeps the cookies of the page (a double-submit CSRF token a replayed POST checks) and what a
     * proxy added.
     */
    @Test
    void sessionIdsOfTheHostsWebappsAndCustomHeadersAreLeftOut() throws IOException {
        SavedRequests host = new TomcatSavedRequests(java.util.Set.of("SITESSO", "XNATID", "JSESSIONID"));
        SavedRequest saved = saved();
        saved.addCookie(new Cookie("SITESSO", "site-sso"));
        saved.addCookie(new Cookie("XNATID", "root-webapp-session"));
        saved.addCookie(new Cookie("jsessionid", "other-webapp-session"));
        saved.addCookie(new Cookie("XSRF-TOKEN", "csrf"));
        saved.addHeader("X-Auth-Token", "api-token");
        saved.addHeader("X-Api-Key", "api-key");
        saved.addHeader("X-Forwarded-Access-Token", "proxy-token"); // a login proxy's (oauth2-proxy)
        saved.addHeader("X-Forwarded-Prefix", "/site");
        saved.addHeader("Transfer-Encoding", "chunked");
        saved.addHeader("Sec-Fetch-Mode", "navigate");
        Map<String, Object> notes = new HashMap<>();
        FormLoginNotes.decode(FormLoginNotes.encode(saved, null, host), host, notes);
        SavedRequest back = (SavedRequest) notes.get(FormLoginNotes.REQUEST_NOTE);
        List<String> cookies = new ArrayList<>();
        back.getCookies().forEachRemaining(c -> cookies.add(c.getName()));
        assertEquals(List.of("theme", "lang", "JSESSIONIDSSO", "XSRF-TOKEN"), cookies,
                "the single sign-on cookie goes by the name it has here, SITESSO");
        assertEquals(List.of("Accept", "Content-Type", "Cookie", "Sec-Fetch-Mode", "Transfer-Encoding",
                "X-Forwarded-Prefix"), names(back));
        String text = new String(FormLoginNotes.encode(saved, null, host), StandardCharsets.ISO_8859_1);
        for (String secret : new String[] {"site-sso", "session", "api-token", "api-key", "proxy-token",
            "YWxpY2U6c2VjcmV0"}) {
            assertFalse(text.contains(secret), secret + " is not written");
        }
    }

    @Test
    void aRequestWithoutBodyOrSavedTimeoutStaysWithout() throws IOException {
        SavedRequest saved = new SavedRequest();
        saved.setMethod("GET");
        saved.setRequestURI("/app/secure/get");
        saved.setDecodedRequestURI("/app/secure/get");
        Map<String, Object> notes = new HashMap<>();
        FormLoginNotes.decode(FormLoginNotes.encode(saved, null, requests), requests, notes);

        SavedRequest back = (SavedRequest) notes.get(FormLoginNotes.REQUEST_NOTE);
        assertNull(back.getBody());
        assertNull(back.getQueryString());
        assertNull(back.getOriginalMaxInactiveIntervalOptional(), "none saved, which is not \"never expires\"");
        assertFalse(notes.containsKey(FormLoginNotes.SESSION_ID_NOTE));
    }

    @Test
    void noNotesAreNoBytes() throws IOException {
        assertNull(FormLoginNotes.encode(null, null, requests));
    }

    /** Bytes in memcached are anyone's who can write there: every cut and every forged count is refused. */
    @Test
    void bytesThatAreNotAWholeLoginAreRefusedWithoutAllocatingWhatTheyClaim() throws IOException {
        byte[] whole = FormLoginNotes.encode(saved(), "ABC-n1", requests);
        for (int cut = 0; cut < whole.length; cut++) {
            byte[] part = Arrays.copyOf(whole, cut);
            assertThrows(IOException.class, () -> FormLoginNotes.decode(part, requests, new HashMap<>()), "cut at " + cut);
        }
        byte[] longer = Arrays.copyOf(whole, whole.length + 1);
        assertThrows(IOException.class, () -> FormLoginNotes.decode(longer, requests, new HashMap<>()));

        byte[] forged = whole.clone();
        ByteBuffer.wrap(forged).putInt(1, Integer.MAX_VALUE); // the expected id's length
        Map<String, Object> notes = new HashMap<>();
        assertThrows(IOException.class, () -> FormLoginNotes.decode(forged, requests, notes));
        assertTrue(notes.isEmpty(), "nothing half-read reaches the notes");

        byte[] otherVersion = whole.clone();
        otherVersion[0] = 2;
        assertThrows(IOException.class, () -> FormLoginNotes.decode(otherVersion, requests, new HashMap<>()));
    }

    private static List<String> names(SavedRequest r) {
        List<String> names = new ArrayList<>();
        r.getHeaderNames().forEachRemaining(names::add);
        names.sort(null);
        return names;
    }

    /** A body past the bound would push the whole session out of memcached: the login stays in memory. */
    @Test
    void aSavedRequestLargerThanTheBoundIsNotWritten() throws IOException {
        SavedRequest saved = saved();
        ByteChunk body = new ByteChunk();
        byte[] big = new byte[FormLoginNotes.MAX_BYTES];
        body.setBytes(big, 0, big.length);
        saved.setBody(body);
        assertThrows(IOException.class, () -> FormLoginNotes.encode(saved, "ABC-n1", requests));
        saved.getBody().setBytes(big, 0, FormLoginNotes.MAX_BYTES / 2);
        assertTrue(FormLoginNotes.encode(saved, "ABC-n1", requests).length <= FormLoginNotes.MAX_BYTES, "half is written");
    }

    private static SavedRequest saved() {
        SavedRequest saved = new SavedRequest();
        saved.setMethod("POST");
        saved.setRequestURI("/app/secure/a%20b");
        saved.setDecodedRequestURI("/app/secure/a b");
        saved.setQueryString("x=1");
        saved.setContentType("application/x-www-form-urlencoded");
        ByteChunk body = new ByteChunk();
        byte[] bytes = "..form=draft&note=ü".getBytes(StandardCharsets.UTF_8);
        body.setBytes(bytes, 2, bytes.length - 2); // a chunk that starts inside its buffer, as Tomcat's may
        saved.setBody(body);
        saved.setOriginalMaxInactiveInterval(1800);
        saved.addCookie(new Cookie("theme", "dark"));
        saved.addCookie(new Cookie("lang", "de"));
        saved.addCookie(new Cookie("JSESSIONIDSSO", "sso-secret"));
        saved.addHeader("Accept", "text/html");
        saved.addHeader("Accept", "*/*");
        saved.addHeader("Content-Type", "application/x-www-form-urlencoded");
        saved.addHeader("Authorization", "Basic YWxpY2U6c2VjcmV0");
        saved.addHeader("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0");
        saved.addHeader("Cookie", "theme=dark; lang=de; JSESSIONIDSSO=sso-secret");
        saved.addLocale(Locale.GERMANY);
        saved.addLocale(Locale.forLanguageTag("sr-Latn-RS"));
        return saved;
    }
}

package io.msm.tomcat;

import java.util.ArrayList;
import java.util.List;

import javax.servlet.http.Cookie;

import org.apache.catalina.connector.Request;
import org.apache.catalina.util.SessionConfig;

/**
 * The session cookies of a request that sent more than one: a webapp at "/" and this one below it
 * with the same cookie name. Tomcat keeps the first whose session it finds before any valve, else the
 * last; non-sticky sessions are found only inside msm's valve, so msm makes the same choice there.
 */
final class SessionCookies {
    private SessionCookies() {
    }

    /**
     * @return the distinct values of the request's session cookies in the order sent, or null when it
     *     sent fewer than two
     */
    static String[] ifSeveral(Request request) {
        if (!request.isRequestedSessionIdFromCookie()) {
            return null;
        }
        Cookie[] cookies = request.getCookies(); // converted once per request, and kept for the webapp
        if (cookies == null || cookies.length < 2) {
            return null;
        }
        String name = SessionConfig.getSessionCookieName(request.getContext());
        List<String> values = null;
        for (Cookie cookie : cookies) {
            String value = cookie.getValue();
            if (name.equals(cookie.getName()) && value != null && !value.isEmpty()) {
                if (values == null) {
                    values = new ArrayList<>(2);
                }
                if (!values.contains(value)) {
                    values.add(value);
                }
            }
        }
        return values == null || values.size() < 2 ? null : values.toArray(new String[0]);
    }
}

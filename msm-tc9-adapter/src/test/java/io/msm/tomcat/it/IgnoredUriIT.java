package io.msm.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * A request matching requestUriIgnorePattern does not load the session. When the webapp makes a new
 * one there anyway (a filter's invalid-session check, a token it saves), the new session's cookie
 * replaces the user's: the operator is told which path did it, and what to write instead.
 */
class IgnoredUriIT extends ClusterTest {
    @Test
    void anIgnoredRequestThatMakesANewSessionIsNamedInAWarn_oneThatOnlyLooksIsNot() {
        String[] attributes = {"sticky", "false", "requestUriIgnorePattern", ".*/fresh$|.*\\.png$"};
        TomcatNode t1 = tomcat("tomcat1", manager(attributes));
        TomcatNode t2 = tomcat("tomcat2", manager(attributes));
        Browser user = new Browser();
        user.get(t1.url("/app/s/set?name=alice"));
        try (LogCapture log = new LogCapture("io.msm")) {
            assertEquals("none", user.get(t2.url("/app/logo.png")).get("session"), "looked, found none here");
            assertEquals(List.of(), log.lines(r -> r.getMessage().contains("requestUriIgnorePattern")));

            Browser.Page fresh = user.get(t2.url("/app/s/fresh?k=v"));
            assertNotNull(fresh.newSessionCookie(), "what the WARN is about: the user's cookie is replaced");
            List<String> warns = log.lines(r -> r.getMessage().contains("requestUriIgnorePattern"));
            assertEquals(1, warns.size(), warns.toString());
            assertTrue(warns.get(0).startsWith("WARNING a request matching requestUriIgnorePattern (/app/s/fresh)"),
                    warns.get(0));
        }
    }
}

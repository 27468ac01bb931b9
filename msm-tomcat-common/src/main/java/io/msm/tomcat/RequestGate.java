package io.msm.tomcat;

import org.apache.catalina.connector.Request;

/** What the valves need of the manager: the mode's strategy, and which requests leave sessions alone. */
interface RequestGate {
    /** @return the strategy of the mode, or null while msm is stopped or disabled */
    RequestStrategy requests();

    /** @return true for a request whose URI matches {@code requestUriIgnorePattern} */
    boolean isIgnored(Request request);

    /** @return the requests inside msm's handling now, which a stop waits for */
    RequestsInFlight inFlight();

    /** @return where requests followed by an error page end */
    RequestEnds ends();

    /** While set, session lookups on this thread see memory only. */
    void ignoreSessionsOnThisThread(boolean ignore);
}

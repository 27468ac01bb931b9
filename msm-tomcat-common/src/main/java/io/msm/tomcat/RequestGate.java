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

    /**
     * While set, this thread runs a request that msm leaves alone: its session lookups see memory, and
     * ask the mode only for a session the webapp wants that memory lacks.
     */
    void ignoreSessionsOnThisThread(boolean ignore);

    /** Until {@link #ignoreSessionsOnThisThread} clears it: session lookups on this thread see memory only. */
    void lookInMemoryOnlyOnThisThread();
}

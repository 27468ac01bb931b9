package io.msm.core;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Two non-sticky Tomcats, a and b, on one in-memory store and fake time: the fixture of order tests. */
abstract class TwoNonStickyTomcats {
    EngineHarness a;
    EngineHarness b;

    @BeforeEach
    void twoTomcats() throws Exception {
        a = EngineHarness.start("sticky", "false");
        b = a.secondTomcat("sticky", "false");
    }

    @AfterEach
    void stop() {
        b.close();
        a.close();
    }

    /** Stores the session as a request that set its attribute "step" does. */
    void store(NonStickySessions nonSticky, SessionId id, SessionState state, String step) {
        nonSticky.store(EngineHarness.snapshot(id, a.time.millis(), Map.of("step", step)), state,
                EngineHarness.setting("step"));
    }
}

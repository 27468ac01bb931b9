package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What {@code lockingMode="auto"} learns, and that no stream of URIs grows it past its bound. */
class ReadOnlyUrisTest {
    @Test
    void aUriSeenTwiceWithoutAChangeIsReadOnlyUntilItChangesOne() {
        ReadOnlyUris uris = new ReadOnlyUris();
        uris.learn("GET", "/app/view", false);
        assertFalse(uris.isReadOnly("GET", "/app/view"));
        uris.learn("GET", "/app/view", false);
        assertTrue(uris.isReadOnly("GET", "/app/view"));

        uris.learn("GET", "/app/view", true);
        uris.learn("GET", "/app/view", false);
        uris.learn("GET", "/app/view", false);
        assertFalse(uris.isReadOnly("GET", "/app/view"), "once it wrote, it locks for good");
    }

    @Test
    void whatGetsTaughtAppliesToNoOtherMethod() {
        ReadOnlyUris uris = new ReadOnlyUris();
        uris.learn("GET", "/app/form", false);
        uris.learn("GET", "/app/form", false);
        assertTrue(uris.isReadOnly("GET", "/app/form"));
        assertFalse(uris.isReadOnly("POST", "/app/form"), "a POST to the same URI locks until POSTs are learned");
    }

    @Test
    void freshQueryStringsOfWritingRequestsStayWithinTheBound_andAPageFirstSeenAfterThemIsStillLearned() {
        ReadOnlyUris uris = new ReadOnlyUris();
        for (int i = 0; i < 3 * ReadOnlyUris.MAX_URIS; i++) {
            uris.learn("GET", "/app/save?_=" + (1_700_000_000_000L + i), true); // jQuery's cache:false
            assertTrue(uris.size() <= ReadOnlyUris.MAX_URIS, "bounded after " + (i + 1) + " URIs");
        }

        uris.learn("GET", "/app/new", false);
        uris.learn("GET", "/app/new", false);
        assertTrue(uris.isReadOnly("GET", "/app/new"), "a full table must not stop auto mode from learning new pages");
    }

    @Test
    void pagesInUseOutliveAFloodOfOneOffUris_whatTheyTaughtStays() {
        ReadOnlyUris uris = new ReadOnlyUris();
        uris.learn("GET", "/app/view", false);
        uris.learn("GET", "/app/view", false);
        uris.learn("GET", "/app/edit", true);
        for (int i = 0; i < 5 * ReadOnlyUris.MAX_URIS; i++) {
            uris.learn("GET", "/app/scan/" + i, false);
            if (i % 1_000 == 0) { // used now and then, far less often than the table turns over
                uris.learn("GET", "/app/view", false);
                uris.learn("GET", "/app/edit", false);
            }
        }
        assertTrue(uris.isReadOnly("GET", "/app/view"), "a read-only page in use stays trusted");
        assertFalse(uris.isReadOnly("GET", "/app/edit"), "a page in use that once wrote keeps locking");
        assertTrue(uris.size() <= ReadOnlyUris.MAX_URIS);
    }

    @Test
    void aPageUnusedWhileTheTableTurnedOverTwiceIsForgotten_andLocksUntilSeenTwiceAgain() {
        ReadOnlyUris uris = new ReadOnlyUris();
        uris.learn("GET", "/app/rare", false);
        uris.learn("GET", "/app/rare", false);
        assertTrue(uris.isReadOnly("GET", "/app/rare"));
        for (int i = 0; i < ReadOnlyUris.MAX_URIS + 1; i++) {
            uris.learn("GET", "/app/scan/" + i, false);
        }
        assertFalse(uris.isReadOnly("GET", "/app/rare"), "forgotten, as after a restart: it locks");
        uris.learn("GET", "/app/rare", false);
        uris.learn("GET", "/app/rare", false);
        assertTrue(uris.isReadOnly("GET", "/app/rare"));
    }

    @Test
    void aVeryLongUriIsNeverRemembered() {
        ReadOnlyUris uris = new ReadOnlyUris();
        String longUri = "/app/view?q=" + "x".repeat(ReadOnlyUris.MAX_URI_LENGTH);
        uris.learn("GET", longUri, false);
        uris.learn("GET", longUri, false);
        assertFalse(uris.isReadOnly("GET", longUri));
        assertEquals(0, uris.size());
    }

    /** Aging the table must not forget what the URI that makes it age taught before: a write above all. */
    @Test
    void aWritingPageSeenAgainJustAsTheTableAges_keepsLocking() {
        ReadOnlyUris uris = new ReadOnlyUris();
        uris.learn("GET", "/app/edit", true);
        for (int i = 0; i < ReadOnlyUris.MAX_URIS / 2; i++) { // /app/edit moves to the previous generation
            uris.learn("GET", "/app/scan/" + i, false);
        }
        for (int i = 1; i < ReadOnlyUris.MAX_URIS / 2; i++) { // and the current one fills up again
            uris.learn("GET", "/app/scan2/" + i, false);
        }
        uris.learn("GET", "/app/edit", false); // ages the table
        uris.learn("GET", "/app/edit", false);
        assertFalse(uris.isReadOnly("GET", "/app/edit"), "it wrote once: it locks");
    }
}

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
        uris.learn("/app/view", false);
        assertFalse(uris.isReadOnly("/app/view"));
        uris.learn("/app/view", false);
        assertTrue(uris.isReadOnly("/app/view"));

        uris.learn("/app/view", true);
        uris.learn("/app/view", false);
        uris.learn("/app/view", false);
        assertFalse(uris.isReadOnly("/app/view"), "once it wrote, it locks for good");
    }

    @Test
    void freshQueryStringsOfWritingRequestsStayWithinTheBound() {
        ReadOnlyUris uris = new ReadOnlyUris();
        for (int i = 0; i < 2 * ReadOnlyUris.MAX_URIS; i++) {
            uris.learn("/app/save?_=" + (1_700_000_000_000L + i), true); // jQuery's cache:false
        }
        assertEquals(ReadOnlyUris.MAX_URIS, uris.size());

        uris.learn("/app/new", false);
        uris.learn("/app/new", false);
        assertFalse(uris.isReadOnly("/app/new"), "past the bound an unknown URI locks");
    }

    @Test
    void aVeryLongUriIsNeverRemembered() {
        ReadOnlyUris uris = new ReadOnlyUris();
        String longUri = "/app/view?q=" + "x".repeat(ReadOnlyUris.MAX_URI_LENGTH);
        uris.learn(longUri, false);
        uris.learn(longUri, false);
        assertFalse(uris.isReadOnly(longUri));
        assertEquals(0, uris.size());
    }
}

package io.msm.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

class SpymemcachedLogTest {

    @Test
    void sessionIdsInSpymemcachedMessagesAreBlankedOut() {
        String id = "9F3C2B7A11D04E6F8A2B3C4D5E6F7A8B-n1.tomcat1";
        String message = "Closing, and reopening {QA sa=/127.0.0.1:11211, #Rops=1, topRop=Cmd: 0 Opaque: 17 Key: "
                + "localhost_/xnat_" + id + ", topWop=null}";
        String masked = SpymemcachedLog.mask(message);
        assertFalse(masked.contains(id), masked);
        assertFalse(masked.contains("9F3C2B7A"), masked);
        assertEquals("get failed: key=…", SpymemcachedLog.mask("get failed: key=localhost_/xnat_" + id));
    }
}

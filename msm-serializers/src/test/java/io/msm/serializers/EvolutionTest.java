package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.msm.core.EncodedBlocks;
import io.msm.core.SessionContent;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderFactory;

/**
 * A redeploy changes a class that sessions hold. Old sessions still load where the change is
 * compatible (a field added, a field removed); where it is not (a field changed its type, the class
 * is gone) that attribute is left out of what the webapp sees, with one log line, and carried as its
 * bytes into the next store; the rest of the session is kept, never an error for the request.
 */
class EvolutionTest {
    private static final String V1 = "public String owner; public int items; public String coupon;";
    private static final String V2_ADDED_AND_REMOVED = "public String owner; public int items;"
            + " public java.util.List<String> notes = new java.util.ArrayList<>();";
    private static final String V3_TYPE_CHANGED = "public String owner; public String items;";

    @TempDir
    Path dir;

    static java.util.stream.Stream<TranscoderFactory> both() {
        return Transcoding.both();
    }

    @ParameterizedTest
    @MethodSource("both")
    void aSessionWrittenBeforeAFieldWasAddedAndAnotherRemovedStillLoads(TranscoderFactory f) throws Exception {
        try (URLClassLoader v1 = compile("v1", V1); URLClassLoader v2 = compile("v2", V2_ADDED_AND_REMOVED)) {
            byte[] stored = writeCart(f, v1);
            try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
                Map<String, Object> back = Transcoding.create(f, v2, null, false).decode(stored).attributes();
                Object cart = back.get("cart");
                assertEquals(v2.loadClass("com.example.Cart"), cart.getClass(), "the new class, not the old one");
                assertEquals("alice", field(cart, "owner"));
                assertEquals(3, field(cart, "items"));
                assertEquals("alice", back.get("user"));
                assertEquals(List.of(), warnings.messages());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("both")
    void aFieldThatChangedItsTypeDropsThatAttributeWithOneLogLine(TranscoderFactory f) throws Exception {
        try (URLClassLoader v1 = compile("v1", V1); URLClassLoader v3 = compile("v3", V3_TYPE_CHANGED)) {
            byte[] stored = writeCart(f, v1);
            Transcoder reader = Transcoding.create(f, v3, null, false);
            try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
                Map<String, Object> back = reader.decode(stored).attributes();
                reader.decode(stored);
                assertEquals(Map.of("user", "alice"), back, "the rest of the session is kept");
                assertEquals(1, warnings.messages().size(), "one line, not one per request: " + warnings.messages());
                assertTrue(warnings.messages().get(0).contains("'cart'"), warnings.messages().get(0));
            }
        }
    }

    /**
     * A rolling upgrade: the old version of the webapp, which lacks the new class, loads a session
     * the new version wrote (one log line; the rest of the session is there) and stores it again (the
     * user changed something there). The attribute it could not read goes back as it was, so that the
     * new version still finds it, with and without the bytes kept of the last decode.
     */
    @ParameterizedTest
    @MethodSource("both")
    void aClassThatIsGoneHidesThatAttributeAndStoresItAgainAsItWas(TranscoderFactory f) throws Exception {
        try (URLClassLoader v1 = compile("v1", V1); URLClassLoader without = new URLClassLoader(new URL[0],
                getClass().getClassLoader())) {
            byte[] stored = writeCart(f, v1);
            Transcoder old = Transcoding.create(f, without, null, false);
            try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
                EncodedBlocks blocks = new EncodedBlocks();
                SessionContent loaded = old.decode(stored, blocks);
                assertEquals(Map.of("user", "alice"), loaded.attributes(), "the webapp here does not see it");
                assertEquals(Set.of("cart"), loaded.unread().keySet());
                assertEquals(1, warnings.messages().size(), String.valueOf(warnings.messages()));
                assertArrayEquals(stored, old.encode(loaded, blocks), "unchanged: the same bytes, nothing to write");

                Map<String, Object> changed = new HashMap<>(loaded.attributes());
                changed.put("user", "bob");
                for (EncodedBlocks kept : Arrays.asList(blocks, null)) {
                    byte[] again = old.encode(new SessionContent(changed, null, loaded.unread()), kept);
                    Map<String, Object> back = Transcoding.create(f, v1, null, false).decode(again).attributes();
                    assertEquals("bob", back.get("user"));
                    Object cart = back.get("cart");
                    assertEquals(v1.loadClass("com.example.Cart"), cart.getClass(), "the new version reads it again");
                    assertEquals("alice", field(cart, "owner"));
                    assertEquals(3, field(cart, "items"));
                    assertEquals("WINTER", field(cart, "coupon"));
                }
            }
        }
    }

    /** A value the webapp set under the name replaces the bytes it could not read. */
    @ParameterizedTest
    @MethodSource("both")
    void aValueSetUnderAnUnreadNameReplacesIt(TranscoderFactory f) throws Exception {
        try (URLClassLoader v1 = compile("v1", V1); URLClassLoader without = new URLClassLoader(new URL[0],
                getClass().getClassLoader())) {
            Transcoder old = Transcoding.create(f, without, null, false);
            try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
                SessionContent loaded = old.decode(writeCart(f, v1));
                Map<String, Object> changed = new HashMap<>(loaded.attributes());
                changed.put("cart", "empty");
                byte[] again = old.encode(new SessionContent(changed, null, loaded.unread()));
                assertEquals(Map.of("user", "alice", "cart", "empty"),
                        Transcoding.create(f, v1, null, false).decode(again).attributes());
            }
        }
    }

    /**
     * A redeploy that removed the jar of a stored class's superclass: the class is there and cannot be
     * linked. NoClassDefFoundError is an Error: it passed every catch and answered the request 500.
     */
    @ParameterizedTest
    @MethodSource("both")
    void aClassWhoseSuperclassIsGoneDropsThatAttributeAndKeepsTheRest(TranscoderFactory f) throws Exception {
        Path src = Files.createDirectories(dir.resolve("base/src/com/example"));
        Path out = Files.createDirectories(dir.resolve("base/classes"));
        Path base = Files.writeString(src.resolve("Base.java"), "package com.example;\n"
                + "public class Base implements java.io.Serializable {\n"
                + "  private static final long serialVersionUID = 1L;\n  public String owner;\n}\n");
        Path cart = Files.writeString(src.resolve("Cart.java"), "package com.example;\n"
                + "public class Cart extends Base {\n  private static final long serialVersionUID = 1L;\n"
                + "  public int items;\n}\n");
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", out.toString(),
                base.toString(), cart.toString()));
        Path withoutBase = Files.createDirectories(dir.resolve("without-base/com/example"));
        Files.copy(out.resolve("com/example/Cart.class"), withoutBase.resolve("Cart.class"));
        try (URLClassLoader v1 = new URLClassLoader(new URL[] {out.toUri().toURL()}, getClass().getClassLoader());
                URLClassLoader broken = new URLClassLoader(new URL[] {dir.resolve("without-base").toUri().toURL()},
                        getClass().getClassLoader())) {
            Object c = v1.loadClass("com.example.Cart").getConstructor().newInstance();
            Map<String, Object> attrs = new LinkedHashMap<>();
            attrs.put("user", "alice");
            attrs.put("cart", c);
            byte[] stored = Transcoding.create(f, v1, null, false).encode(new SessionContent(attrs, null));
            try (Transcoding.Warnings warnings = Transcoding.Warnings.capture()) {
                assertEquals(Map.of("user", "alice"), Transcoding.create(f, broken, null, false).decode(stored)
                        .attributes());
                assertEquals(1, warnings.messages().size(), String.valueOf(warnings.messages()));
                assertTrue(warnings.messages().get(0).contains("'cart'"), warnings.messages().get(0));
            }
        }
    }

    private static byte[] writeCart(TranscoderFactory f, ClassLoader v1) throws Exception {
        Object cart = v1.loadClass("com.example.Cart").getConstructor().newInstance();
        cart.getClass().getField("owner").set(cart, "alice");
        cart.getClass().getField("items").set(cart, 3);
        cart.getClass().getField("coupon").set(cart, "WINTER");
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("user", "alice");
        attrs.put("cart", cart);
        return Transcoding.create(f, v1, null, false).encode(new SessionContent(attrs, null));
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        return o.getClass().getField(name).get(o);
    }

    /** One version of the webapp's class com.example.Cart, compiled now, in a loader of its own. */
    private URLClassLoader compile(String version, String fields) throws IOException {
        Path src = Files.createDirectories(dir.resolve(version + "/src/com/example"));
        Path out = Files.createDirectories(dir.resolve(version + "/classes"));
        Path file = Files.writeString(src.resolve("Cart.java"), "package com.example;\n"
                + "public class Cart implements java.io.Serializable {\n"
                + "  private static final long serialVersionUID = 1L;\n  " + fields + "\n}\n");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-d", out.toString(), file.toString());
        assertEquals(0, rc, "javac of Cart " + version);
        return new URLClassLoader(new URL[] {out.toUri().toURL()}, EvolutionTest.class.getClassLoader());
    }
}

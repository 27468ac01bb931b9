package io.msm.serializers;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

import org.apache.commons.collections.Transformer;
import org.apache.commons.collections.comparators.TransformingComparator;
import org.apache.commons.collections.functors.ChainedTransformer;
import org.apache.commons.collections.functors.ConstantTransformer;
import org.apache.commons.collections.functors.InvokerTransformer;
import org.apache.commons.collections.keyvalue.TiedMapEntry;
import org.apache.commons.collections.map.LazyMap;

/**
 * Real gadget chains of commons-collections 3.2.1, as published for deserialization attacks, with
 * one harmless change: instead of {@code Runtime.exec} the chain calls
 * {@code System.setProperty(FIRED, "yes")}, so a test can see whether it ran.
 */
public final class Gadgets {
    public static final String FIRED = "msm.test.gadget.fired";

    private Gadgets() {
    }

    /** The chain a Java-serialization payload triggers from HashMap.readObject (as ysoserial's CommonsCollections6). */
    public static Map<Object, Object> hashMapChain() {
        Map<Object, Object> lazy = LazyMap.decorate(new HashMap<>(), chain());
        Map<Object, Object> payload = new HashMap<>();
        payload.put(new TiedMapEntry(lazy, "key"), "value"); // fires once here...
        lazy.remove("key"); // ...and again when a reader rebuilds the HashMap
        System.clearProperty(FIRED);
        return payload;
    }

    /**
     * The chain a Kryo payload triggers while rebuilding a PriorityQueue (as CommonsCollections2;
     * Kryo does not need the comparator to be Serializable).
     */
    public static PriorityQueue<Object> priorityQueueChain() {
        PriorityQueue<Object> payload = new PriorityQueue<>(2, new TransformingComparator(chain()));
        payload.add(1);
        payload.add(2); // fires here, while comparing
        System.clearProperty(FIRED);
        return payload;
    }

    /** @return the chain that fits the transcoder: "Java" or "Kryo" */
    public static Object chainFor(String transcoder) {
        return transcoder.equals("Kryo") ? priorityQueueChain() : hashMapChain();
    }

    public static boolean fired() {
        return System.getProperty(FIRED) != null;
    }

    private static Transformer chain() {
        return new ChainedTransformer(new Transformer[] {
            new ConstantTransformer(System.class),
            new InvokerTransformer("getMethod", new Class<?>[] {String.class, Class[].class},
                    new Object[] {"setProperty", new Class<?>[] {String.class, String.class}}),
            new InvokerTransformer("invoke", new Class<?>[] {Object.class, Object[].class},
                    new Object[] {null, new Object[] {FIRED, "yes"}}),
            new ConstantTransformer(1), // something comparable, so that the comparing goes on
        });
    }

    /**
     * A webapp class loader that holds commons-collections and tells which classes it loaded, to
     * prove that a refused class was not even loaded, let alone instantiated.
     */
    public static final class WebappLoader extends URLClassLoader {
        public WebappLoader() {
            super(new URL[] {InvokerTransformer.class.getProtectionDomain().getCodeSource().getLocation()},
                    ClassLoader.getPlatformClassLoader());
        }

        /** @return the commons-collections classes this loader has loaded */
        public List<String> loadedGadgetClasses() {
            return List.of(InvokerTransformer.class, ChainedTransformer.class, ConstantTransformer.class,
                    TiedMapEntry.class, LazyMap.class, TransformingComparator.class).stream().map(Class::getName)
                    .filter(n -> findLoadedClass(n) != null).toList();
        }
    }
}

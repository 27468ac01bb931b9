package io.msm.serializers.kryo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

/**
 * The views of {@link Collections#unmodifiableList} and friends and of the {@code synchronized*}
 * wrappers, whose wrapped collection sits in a private JDK field that Kryo cannot reach on Java 17
 * without {@code --add-opens}. They are written through their public API (comparator, then the
 * elements or entries) and read back as the same kind of view over a fresh collection that keeps
 * the iteration order: ArrayList, LinkedList, LinkedHashSet, LinkedHashMap, or TreeSet/TreeMap
 * with the comparator. The view is known to Kryo before its content is read, so cycles and shared
 * references survive.
 */
@SuppressWarnings({"rawtypes", "unchecked"})
final class WrapperSerializer extends Serializer<Object> {
    private enum Shape {
        COLLECTION, LIST, RANDOM_ACCESS_LIST, SET, SORTED_SET, NAVIGABLE_SET, MAP, SORTED_MAP, NAVIGABLE_MAP;

        boolean isMap() {
            return this == MAP || this == SORTED_MAP || this == NAVIGABLE_MAP;
        }

        boolean isSorted() {
            return this == SORTED_SET || this == NAVIGABLE_SET || this == SORTED_MAP || this == NAVIGABLE_MAP;
        }

        /** A fresh, empty collection of this shape, ordered as the original iterates. */
        Object backing(Comparator<Object> comparator) {
            switch (this) {
                case COLLECTION:
                case RANDOM_ACCESS_LIST:
                    return new ArrayList<>();
                case LIST:
                    return new LinkedList<>();
                case SET:
                    return new LinkedHashSet<>();
                case SORTED_SET:
                case NAVIGABLE_SET:
                    return new TreeSet<>(comparator);
                case MAP:
                    return new LinkedHashMap<>();
                default:
                    return new TreeMap<>(comparator);
            }
        }
    }

    private final Shape shape;
    private final Function<Object, Object> wrap;

    private WrapperSerializer(Shape shape, Function<Object, Object> wrap) {
        this.shape = shape;
        this.wrap = wrap;
    }

    /**
     * Registers a serializer for each wrapper class of the JDK running msm. Kryo takes the first
     * default serializer whose class is assignable, so subclasses come before their superclasses.
     */
    static void register(Kryo kryo) {
        kryo.addDefaultSerializer(Collections.emptyNavigableSet().getClass(),
                new ConstantSerializer(Collections.emptyNavigableSet()));
        kryo.addDefaultSerializer(Collections.emptyNavigableMap().getClass(),
                new ConstantSerializer(Collections.emptyNavigableMap()));
        add(kryo, Shape.NAVIGABLE_SET, c -> Collections.unmodifiableNavigableSet((java.util.NavigableSet) c),
                c -> Collections.synchronizedNavigableSet((java.util.NavigableSet) c));
        add(kryo, Shape.SORTED_SET, c -> Collections.unmodifiableSortedSet((SortedSet) c),
                c -> Collections.synchronizedSortedSet((SortedSet) c));
        add(kryo, Shape.SET, c -> Collections.unmodifiableSet((java.util.Set) c),
                c -> Collections.synchronizedSet((java.util.Set) c));
        add(kryo, Shape.RANDOM_ACCESS_LIST, c -> Collections.unmodifiableList((java.util.List) c),
                c -> Collections.synchronizedList((java.util.List) c));
        add(kryo, Shape.LIST, c -> Collections.unmodifiableList((java.util.List) c),
                c -> Collections.synchronizedList((java.util.List) c));
        add(kryo, Shape.COLLECTION, c -> Collections.unmodifiableCollection((Collection) c),
                c -> Collections.synchronizedCollection((Collection) c));
        add(kryo, Shape.NAVIGABLE_MAP, c -> Collections.unmodifiableNavigableMap((java.util.NavigableMap) c),
                c -> Collections.synchronizedNavigableMap((java.util.NavigableMap) c));
        add(kryo, Shape.SORTED_MAP, c -> Collections.unmodifiableSortedMap((SortedMap) c),
                c -> Collections.synchronizedSortedMap((SortedMap) c));
        add(kryo, Shape.MAP, c -> Collections.unmodifiableMap((Map) c), c -> Collections.synchronizedMap((Map) c));
    }

    /** The JDK's shared empty sorted views: nothing to write, the same instance to read. */
    private static final class ConstantSerializer extends Serializer<Object> {
        private final Object constant;

        ConstantSerializer(Object constant) {
            this.constant = constant;
        }

        @Override
        public void write(Kryo kryo, Output output, Object object) {
            // nothing: there is only one
        }

        @Override
        public Object read(Kryo kryo, Input input, Class<? extends Object> type) {
            return constant;
        }
    }

    private static void add(Kryo kryo, Shape shape, Function<Object, Object> unmodifiable,
            Function<Object, Object> synchronizedView) {
        Object sample = shape.backing(null);
        kryo.addDefaultSerializer(unmodifiable.apply(sample).getClass(), new WrapperSerializer(shape, unmodifiable));
        kryo.addDefaultSerializer(synchronizedView.apply(sample).getClass(),
                new WrapperSerializer(shape, synchronizedView));
    }

    @Override
    public void write(Kryo kryo, Output output, Object view) {
        if (shape.isSorted()) {
            kryo.writeClassAndObject(output, view instanceof SortedSet ? ((SortedSet) view).comparator()
                    : ((SortedMap) view).comparator());
        }
        if (shape.isMap()) {
            Map<Object, Object> map = (Map) view;
            Object[] entries;
            synchronized (view) { // the lock of a synchronized view is the view itself
                entries = map.entrySet().toArray();
            }
            output.writeVarInt(entries.length, true);
            for (Object e : entries) {
                kryo.writeClassAndObject(output, ((Map.Entry) e).getKey());
                kryo.writeClassAndObject(output, ((Map.Entry) e).getValue());
            }
        } else {
            Object[] elements;
            synchronized (view) {
                elements = ((Collection) view).toArray();
            }
            output.writeVarInt(elements.length, true);
            for (Object e : elements) {
                kryo.writeClassAndObject(output, e);
            }
        }
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<? extends Object> type) {
        Comparator<Object> comparator = shape.isSorted() ? (Comparator) kryo.readClassAndObject(input) : null;
        Object backing = shape.backing(comparator);
        Object view = wrap.apply(backing);
        kryo.reference(view);
        int size = input.readVarInt(true);
        if (input instanceof LimitedInput) {
            ((LimitedInput) input).checkLength(size);
        }
        for (int i = 0; i < size; i++) {
            if (shape.isMap()) {
                Object key = kryo.readClassAndObject(input);
                ((Map) backing).put(key, kryo.readClassAndObject(input));
            } else {
                ((Collection) backing).add(kryo.readClassAndObject(input));
            }
        }
        return view;
    }
}

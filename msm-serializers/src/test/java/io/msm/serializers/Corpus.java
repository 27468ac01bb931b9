package io.msm.serializers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.AbstractMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Calendar;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Currency;
import java.util.Date;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.GregorianCalendar;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Properties;
import java.util.Set;
import java.util.Stack;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.Vector;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.core.userdetails.User;

import io.msm.core.Transcoder;
import io.msm.core.TranscoderException;
import io.msm.core.TranscoderFactory;

/**
 * What both transcoders must carry through a round trip unchanged: the types real webapps keep in
 * their sessions. Each case makes a fresh value and knows how to compare it with what came back
 * ({@code equals} and the same class, unless the type has no useful {@code equals}).
 */
public final class Corpus {
    /**
     * One value and its comparison. {@code leftOutBy} names the transcoders (as {@link Transcoding#name})
     * that cannot store the value at all, such as Java serialization a class that is not
     * {@code Serializable}: for those the attribute is expected to be left out and named once in the log.
     */
    public record Case(String name, Supplier<Object> value, BiConsumer<Object, Object> check, Set<String> leftOutBy) {
        public Case(String name, Supplier<Object> value, BiConsumer<Object, Object> check) {
            this(name, value, check, Set.of());
        }

        /** A round trip of a fresh value through a new transcoder of the factory, checked for its outcome. */
        public void verify(TranscoderFactory factory) throws TranscoderException {
            Transcoder t = Transcoding.create(factory);
            Object v = value.get();
            if (leftOutBy.contains(Transcoding.name(factory))) {
                Transcoding.leftOut(t, v);
            } else {
                check.accept(v, Transcoding.roundTrip(t, v));
            }
        }

        @Override
        public String toString() {
            return leftOutBy.isEmpty() ? name : name + " (left out by " + String.join(", ", leftOutBy) + ")";
        }
    }

    private Corpus() {
    }

    public static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // ConcurrentHashMap, also nested: the type that made users of the old Kryo transcoder give up
        c.add(same("ConcurrentHashMap nested", () -> {
            ConcurrentHashMap<String, Object> outer = new ConcurrentHashMap<>();
            ConcurrentHashMap<String, List<Integer>> inner = new ConcurrentHashMap<>();
            inner.put("a", new ArrayList<>(List.of(1, 2, 3)));
            outer.put("inner", inner);
            outer.put("n", 42L);
            return outer;
        }));
        // java.util collections
        c.add(same("ArrayList", () -> new ArrayList<>(List.of("a", "b", "c"))));
        c.add(same("LinkedList", () -> new LinkedList<>(List.of(1, 2, 3))));
        c.add(same("Vector", () -> new Vector<>(List.of(1, 2))));
        c.add(same("Stack", () -> {
            Stack<String> s = new Stack<>();
            s.push("x");
            return s;
        }));
        c.add(same("HashMap", () -> new HashMap<>(Map.of("a", 1, "b", 2))));
        c.add(same("Hashtable", () -> new Hashtable<>(Map.of("a", 1))));
        c.add(same("LinkedHashMap", () -> linkedMap(false)));
        c.add(new Case("LinkedHashMap with access order", () -> linkedMap(true), (expected, actual) -> {
            assertEquals(expected, actual);
            assertSame(expected.getClass(), actual.getClass());
            Map<?, ?> back = (Map<?, ?>) actual;
            back.get("first");
            assertEquals(List.of("second", "third", "first"), new ArrayList<>(back.keySet()),
                    "reading an entry moves it to the end, as before");
        }));
        c.add(same("TreeMap", () -> new TreeMap<>(Map.of("b", 2, "a", 1))));
        c.add(sorted("TreeMap with reverse comparator", () -> {
            TreeMap<String, Integer> m = new TreeMap<>(Comparator.reverseOrder());
            m.putAll(Map.of("a", 1, "b", 2, "c", 3));
            return m;
        }));
        c.add(sorted("TreeMap with case-insensitive comparator", () -> {
            TreeMap<String, Integer> m = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            m.putAll(Map.of("b", 2, "A", 1));
            return m;
        }));
        c.add(sorted("TreeSet with webapp comparator", () -> {
            TreeSet<String> s = new TreeSet<>(new ByLength());
            s.addAll(List.of("ccc", "a", "bb"));
            return s;
        }));
        c.add(sorted("TreeSet with serializable lambda comparator", () -> {
            TreeSet<String> s = new TreeSet<>((Comparator<String> & Serializable) (a, b) -> b.compareTo(a));
            s.addAll(List.of("a", "c", "b"));
            return s;
        }));
        c.add(same("HashSet", () -> new HashSet<>(Set.of("a", "b"))));
        c.add(same("LinkedHashSet", () -> new LinkedHashSet<>(List.of("z", "a", "m"))));
        c.add(same("TreeSet", () -> new TreeSet<>(Set.of(3, 1, 2))));
        c.add(same("EnumSet", () -> EnumSet.of(Planet.EARTH, Planet.MARS)));
        c.add(same("EnumSet empty", () -> EnumSet.noneOf(Planet.class)));
        c.add(same("EnumMap", () -> {
            EnumMap<Planet, String> m = new EnumMap<>(Planet.class);
            m.put(Planet.MARS, "red");
            m.put(Planet.EARTH, "blue");
            return m;
        }));
        c.add(new Case("EnumMap empty", () -> new EnumMap<>(Planet.class), (expected, actual) -> {
            assertEquals(expected, actual);
            @SuppressWarnings("unchecked")
            EnumMap<Planet, String> back = (EnumMap<Planet, String>) actual;
            back.put(Planet.EARTH, "keeps its key type");
        }));
        c.add(same("ConcurrentSkipListMap", () -> new ConcurrentSkipListMap<>(Map.of("a", 1))));
        c.add(same("ConcurrentSkipListSet", () -> new ConcurrentSkipListSet<>(Set.of(1, 2))));
        c.add(same("CopyOnWriteArrayList", () -> new CopyOnWriteArrayList<>(List.of(1, 2))));
        c.add(same("CopyOnWriteArraySet", () -> new CopyOnWriteArraySet<>(List.of(1, 2))));
        c.add(new Case("ArrayDeque", () -> new ArrayDeque<>(List.of(1, 2, 3)), Corpus::sameElements));
        c.add(new Case("PriorityQueue", () -> new PriorityQueue<>(List.of(3, 1, 2)), (expected, actual) -> {
            assertSame(expected.getClass(), actual.getClass());
            assertEquals(List.of(1, 2, 3), drain((PriorityQueue<?>) actual));
        }));
        c.add(same("BitSet", () -> BitSet.valueOf(new long[] {0b1011L, 7L})));
        c.add(same("BitSet empty", BitSet::new));
        c.add(new Case("IdentityHashMap", () -> {
            IdentityHashMap<Object, Integer> m = new IdentityHashMap<>();
            m.put("k", 1);
            m.put(new String("k"), 2); // equal, not identical: a second key
            m.put(new Point(1, 1), 3);
            return m;
        }, (expected, actual) -> {
            assertSame(IdentityHashMap.class, actual.getClass());
            @SuppressWarnings("unchecked")
            IdentityHashMap<Object, Integer> back = (IdentityHashMap<Object, Integer>) actual;
            assertEquals(3, back.size(), "two equal keys stay two keys");
            assertEquals(Set.of(1, 2, 3), new HashSet<>(back.values()));
            assertEquals(null, back.get(new Point(1, 1)), "still looked up by identity");
        }));
        c.add(new Case("Properties with defaults", () -> {
            Properties defaults = new Properties();
            defaults.setProperty("colour", "blue");
            Properties p = new Properties(defaults);
            p.setProperty("size", "10");
            return p;
        }, (expected, actual) -> {
            assertEquals(expected, actual);
            assertSame(Properties.class, actual.getClass());
            assertEquals("blue", ((Properties) actual).getProperty("colour"), "the defaults are kept");
        }));
        c.add(same("ConcurrentSkipListMap with comparator", () -> {
            ConcurrentSkipListMap<String, Integer> m = new ConcurrentSkipListMap<>(Comparator.reverseOrder());
            m.putAll(Map.of("a", 1, "b", 2, "c", 3));
            return m;
        }));
        // ordered by length, which is not the strings' natural order
        c.add(new Case("ConcurrentSkipListMap with webapp comparator", () -> {
            ConcurrentSkipListMap<String, Integer> m = new ConcurrentSkipListMap<>(new ByLength());
            m.putAll(Map.of("aaa", 3, "b", 1, "cc", 2));
            return m;
        }, Corpus::sameOrderAndComparator));
        c.add(new Case("ConcurrentSkipListSet with webapp comparator", () -> {
            ConcurrentSkipListSet<String> s = new ConcurrentSkipListSet<>(new ByLength());
            s.addAll(List.of("aaa", "b", "cc"));
            return s;
        }, Corpus::sameOrderAndComparator));
        c.add(new Case("AtomicInteger", () -> new AtomicInteger(-3),
                (e, a) -> assertEquals(-3, ((AtomicInteger) a).get())));
        // queues and deques: no equals of their own, compared by class and content in order
        c.add(new Case("ConcurrentLinkedQueue", () -> new ConcurrentLinkedQueue<>(List.of(1, 2, 3)),
                Corpus::sameElements));
        c.add(new Case("ConcurrentLinkedDeque", () -> new ConcurrentLinkedDeque<>(List.of("a", "b")),
                Corpus::sameElements));
        c.add(new Case("LinkedBlockingQueue", () -> new LinkedBlockingQueue<>(List.of(1, 2)),
                Corpus::sameElementsAndCapacity));
        c.add(new Case("LinkedBlockingQueue bounded", () -> {
            LinkedBlockingQueue<Integer> q = new LinkedBlockingQueue<>(5);
            q.addAll(List.of(1, 2));
            return q;
        }, Corpus::sameElementsAndCapacity));
        c.add(new Case("LinkedBlockingDeque bounded", () -> {
            LinkedBlockingDeque<String> q = new LinkedBlockingDeque<>(4);
            q.addAll(List.of("x", "y"));
            return q;
        }, Corpus::sameElementsAndCapacity));
        c.add(new Case("ArrayBlockingQueue", () -> {
            ArrayBlockingQueue<Integer> q = new ArrayBlockingQueue<>(3);
            q.addAll(List.of(7, 8));
            return q;
        }, Corpus::sameElementsAndCapacity));
        c.add(new Case("ArrayBlockingQueue wrapped around", () -> {
            ArrayBlockingQueue<Integer> q = new ArrayBlockingQueue<>(3);
            q.addAll(List.of(1, 2, 3));
            q.poll();
            q.add(4); // the ring's start is no longer index 0
            return q;
        }, Corpus::sameElementsAndCapacity));
        c.add(same("CopyOnWriteArrayList of beans", () -> new CopyOnWriteArrayList<>(List.of(new Point(1, 2)))));
        // wrappers and factories of java.util.Collections, Arrays and the Java 9 factories
        List<String> abc = List.of("a", "b", "c");
        c.add(new Case("unmodifiableCollection", () -> Collections.unmodifiableCollection(new ArrayList<>(abc)),
                Corpus::sameElements));
        c.add(same("unmodifiableList", () -> Collections.unmodifiableList(new ArrayList<>(abc))));
        c.add(same("unmodifiableList of LinkedList", () -> Collections.unmodifiableList(new LinkedList<>(abc))));
        c.add(same("unmodifiableSet", () -> Collections.unmodifiableSet(new LinkedHashSet<>(abc))));
        c.add(sorted("unmodifiableSortedSet", () -> Collections.unmodifiableSortedSet(reversed(abc))));
        c.add(sorted("unmodifiableNavigableSet", () -> Collections.unmodifiableNavigableSet(reversed(abc))));
        c.add(same("unmodifiableMap", () -> Collections.unmodifiableMap(linkedMap(false))));
        c.add(sorted("unmodifiableSortedMap", () -> Collections.unmodifiableSortedMap(new TreeMap<>(Map.of("a", 1)))));
        c.add(sorted("unmodifiableNavigableMap", () -> Collections.unmodifiableNavigableMap(
                new TreeMap<>(Map.of("a", 1)))));
        c.add(new Case("synchronizedCollection", () -> Collections.synchronizedCollection(new ArrayList<>(abc)),
                Corpus::sameElements));
        c.add(same("synchronizedList", () -> Collections.synchronizedList(new ArrayList<>(abc))));
        c.add(same("synchronizedSet", () -> Collections.synchronizedSet(new HashSet<>(abc))));
        c.add(sorted("synchronizedSortedSet", () -> Collections.synchronizedSortedSet(reversed(abc))));
        c.add(sorted("synchronizedNavigableSet", () -> Collections.synchronizedNavigableSet(reversed(abc))));
        c.add(same("synchronizedMap", () -> Collections.synchronizedMap(new HashMap<>(Map.of("a", 1)))));
        c.add(sorted("synchronizedSortedMap", () -> Collections.synchronizedSortedMap(new TreeMap<>(Map.of("a", 1)))));
        c.add(sorted("synchronizedNavigableMap", () -> Collections.synchronizedNavigableMap(
                new TreeMap<>(Map.of("a", 1)))));
        c.add(same("emptyList", Collections::emptyList));
        c.add(same("emptySet", Collections::emptySet));
        c.add(same("emptyMap", Collections::emptyMap));
        c.add(same("emptySortedSet", Collections::emptySortedSet));
        c.add(same("emptyNavigableSet", Collections::emptyNavigableSet));
        c.add(same("emptySortedMap", Collections::emptySortedMap));
        c.add(same("emptyNavigableMap", Collections::emptyNavigableMap));
        c.add(same("singleton", () -> Collections.singleton("one")));
        c.add(same("singletonList", () -> Collections.singletonList("one")));
        c.add(same("singletonMap", () -> Collections.singletonMap("k", "v")));
        c.add(same("Arrays.asList", () -> Arrays.asList("x", "y")));
        c.add(same("List.of empty", List::of));
        c.add(same("List.of one", () -> List.of("a")));
        c.add(same("List.of many", () -> List.of("a", "b", "c", "d")));
        c.add(same("Set.of", () -> Set.of("a", "b", "c")));
        c.add(same("Map.of", () -> Map.of("a", 1, "b", 2, "c", 3)));
        c.add(same("Map.of one", () -> Map.of("a", 1)));
        c.add(same("Set.of empty", Set::of));
        c.add(same("Map.of empty", Map::of));
        c.add(same("List.copyOf", () -> List.copyOf(new ArrayList<>(abc))));
        c.add(same("Set.copyOf", () -> Set.copyOf(new ArrayList<>(abc))));
        c.add(same("Map.copyOf", () -> Map.copyOf(linkedMap(false))));
        c.add(same("nCopies", () -> Collections.nCopies(3, "x")));
        c.add(same("nCopies none", () -> Collections.nCopies(0, "x")));
        c.add(checked("checkedList", () -> Collections.checkedList(new ArrayList<>(abc), String.class)));
        c.add(checked("checkedSet", () -> Collections.checkedSet(new HashSet<>(abc), String.class)));
        c.add(checked("checkedMap", () -> Collections.checkedMap(new HashMap<>(Map.of("a", 1)), String.class,
                Integer.class)));
        c.add(checked("checkedSortedSet", () -> Collections.checkedSortedSet(reversed(abc), String.class)));
        // the entries of java.util: two serializable, Map.entry's (Java 9) not
        c.add(same("AbstractMap.SimpleEntry", () -> new AbstractMap.SimpleEntry<>("k", List.of(1))));
        c.add(same("AbstractMap.SimpleImmutableEntry", () -> new AbstractMap.SimpleImmutableEntry<>("k", 1L)));
        c.add(leftOutBy("Java", same("Map.entry", () -> Map.entry("k", new Point(1, 2)))));
        c.add(leftOutBy("Java", same("Optional", () -> Optional.of("x"))));
        c.add(leftOutBy("Java", same("Optional empty", Optional::empty)));
        // java.time and the older value types
        c.add(same("Instant", () -> Instant.ofEpochSecond(1_700_000_000L, 123_456_789)));
        c.add(same("LocalDate", () -> LocalDate.of(2024, 2, 29)));
        c.add(same("LocalTime", () -> LocalTime.of(23, 59, 58, 1000)));
        c.add(same("LocalDateTime", () -> LocalDateTime.of(2024, 2, 29, 12, 0)));
        c.add(same("ZonedDateTime", () -> ZonedDateTime.of(2024, 3, 31, 2, 30, 0, 0, ZoneId.of("Europe/Berlin"))));
        c.add(same("OffsetDateTime", () -> OffsetDateTime.of(2024, 1, 1, 0, 0, 0, 0, ZoneOffset.ofHours(-5))));
        c.add(same("OffsetTime", () -> OffsetTime.of(10, 0, 0, 0, ZoneOffset.UTC)));
        c.add(same("Duration", () -> Duration.ofMillis(90_061_001)));
        c.add(same("Period", () -> Period.of(1, 2, 3)));
        c.add(same("Year", () -> Year.of(2026)));
        c.add(same("YearMonth", () -> YearMonth.of(2026, 11)));
        c.add(same("MonthDay", () -> MonthDay.of(2, 29)));
        c.add(same("ZoneId region", () -> ZoneId.of("America/New_York")));
        c.add(same("ZoneOffset", () -> ZoneOffset.ofHoursMinutes(5, 30)));
        c.add(same("Date", () -> new Date(1_700_000_000_123L)));
        c.add(same("java.sql.Timestamp with nanoseconds", () -> {
            java.sql.Timestamp t = new java.sql.Timestamp(1_700_000_000_123L);
            t.setNanos(123_456_789);
            return t;
        }));
        c.add(same("java.sql.Date", () -> java.sql.Date.valueOf("2024-02-29")));
        c.add(same("Calendar", () -> {
            GregorianCalendar cal = new GregorianCalendar(TimeZone.getTimeZone("Asia/Tokyo"), Locale.JAPAN);
            cal.setTimeInMillis(1_700_000_000_000L);
            return cal;
        }));
        c.add(same("Calendar, Japanese imperial", () -> {
            Calendar cal = Calendar.getInstance(TimeZone.getTimeZone("Asia/Tokyo"), new Locale("ja", "JP", "JP"));
            cal.setTimeInMillis(1_700_000_000_000L);
            return cal;
        }));
        c.add(same("TimeZone", () -> TimeZone.getTimeZone("America/Los_Angeles")));
        c.add(same("TimeZone with own rules", () -> new java.util.SimpleTimeZone(3_600_000, "Own/Rules",
                Calendar.MARCH, -1, Calendar.SUNDAY, 3_600_000, Calendar.OCTOBER, -1, Calendar.SUNDAY, 3_600_000)));
        c.add(same("Locale", () -> Locale.forLanguageTag("sr-Latn-RS")));
        c.add(same("UUID", () -> UUID.fromString("3f2504e0-4f89-11d3-9a0c-0305e82c3301")));
        c.add(same("URI", () -> URI.create("https://example.org/a%20b?q=1#frag")));
        c.add(new Case("Pattern", () -> Pattern.compile("a+b*", Pattern.CASE_INSENSITIVE), (expected, actual) -> {
            assertEquals(((Pattern) expected).pattern(), ((Pattern) actual).pattern());
            assertEquals(((Pattern) expected).flags(), ((Pattern) actual).flags());
        }));
        c.add(same("BigDecimal", () -> new BigDecimal("12345678901234567890.000123")));
        c.add(same("BigInteger", () -> new BigInteger("-98765432109876543210")));
        c.add(same("Currency", () -> Currency.getInstance("EUR")));
        c.add(new Case("AtomicLong", () -> new AtomicLong(7), (e, a) -> assertEquals(7L, ((AtomicLong) a).get())));
        c.add(same("Optional in a bean", () -> new Holder(Optional.of("x").orElse("y"))));
        c.add(same("int[] in a bean", () -> new Arrays2(new int[] {1, 2, 3}, new String[] {"a", null})));
        c.add(same("primitive wrappers", () -> new ArrayList<>(Arrays.asList(1, 2L, 3.0, 4f, (short) 5, (byte) 6, 'c',
                true, null, "s"))));
        // enums, odd classes, graphs
        c.add(new Case("enum with bodies", () -> Op.PLUS, (expected, actual) -> {
            assertSame(expected, actual);
            assertEquals(5, ((Op) actual).apply(2, 3));
        }));
        c.add(same("class without no-arg constructor", () -> new Point(3, 4)));
        c.add(same("record", () -> new Range(1, 9)));
        c.add(new Case("inner class", () -> new Outer("outer").new Inner(7), (expected, actual) -> {
            Outer.Inner back = (Outer.Inner) actual;
            assertEquals(7, back.value);
            assertEquals("outer", back.outerLabel());
        }));
        c.add(new Case("anonymous class", () -> Greeting.anonymous("Ada"), (expected, actual) -> {
            assertSame(expected.getClass(), actual.getClass());
            assertEquals("hello Ada", ((Greeting) actual).greet());
        }));
        c.add(new Case("cyclic graph", () -> {
            Node a = new Node("a");
            Node b = new Node("b");
            a.next = b;
            b.next = a;
            return a;
        }, (expected, actual) -> {
            Node back = (Node) actual;
            assertEquals("b", back.next.name);
            assertSame(back, back.next.next, "the cycle is closed on the same object");
        }));
        c.add(new Case("shared references", () -> {
            Point p = new Point(1, 1);
            return new ArrayList<>(List.of(p, p, new Point(1, 1)));
        }, (expected, actual) -> {
            List<?> back = (List<?>) actual;
            assertEquals(expected, back);
            assertSame(back.get(0), back.get(1), "one object stays one object");
            assertTrue(back.get(0) != back.get(2));
        }));
        c.add(new Case("list containing itself", () -> {
            List<Object> self = new ArrayList<>();
            self.add("x");
            self.add(self);
            return self;
        }, (expected, actual) -> {
            List<?> back = (List<?>) actual;
            assertEquals("x", back.get(0));
            assertSame(back, back.get(1));
        }));
        c.add(same("writeObject and readObject", () -> new Custom("base")));
        c.add(same("writeReplace and readResolve", () -> new Replaced("value")));
        c.add(same("Throwable", () -> new Problem("failed")));
        // what XNAT keeps after a login
        c.add(new Case("Spring Security context", Corpus::securityContext, Corpus::sameSecurityContext));
        return c;
    }

    private static Case same(String name, Supplier<Object> value) {
        return new Case(name, value, (expected, actual) -> {
            assertEquals(expected, actual);
            assertSame(expected.getClass(), actual.getClass(), "the same class");
        });
    }

    /** Sorted collections: equal, same class, and the comparator still orders. */
    private static Case sorted(String name, Supplier<Object> value) {
        return new Case(name, value, (expected, actual) -> {
            assertEquals(expected, actual);
            assertSame(expected.getClass(), actual.getClass(), "the same class");
            assertEquals(String.valueOf(expected), String.valueOf(actual), "the same order");
            Comparator<?> cmp = expected instanceof java.util.SortedSet ? ((java.util.SortedSet<?>) actual).comparator()
                    : ((java.util.SortedMap<?, ?>) actual).comparator();
            Comparator<?> was = expected instanceof java.util.SortedSet
                    ? ((java.util.SortedSet<?>) expected).comparator() : ((java.util.SortedMap<?, ?>) expected).comparator();
            assertEquals(was == null, cmp == null, "the comparator is kept");
        });
    }

    /** The case as one that the named transcoder cannot store: left out, named once, for it. */
    private static Case leftOutBy(String transcoder, Case c) {
        return new Case(c.name(), c.value(), c.check(), Set.of(transcoder));
    }

    /** The checked views: equal, the same class, and still refusing an element of another type. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Case checked(String name, Supplier<Object> value) {
        return new Case(name, value, (expected, actual) -> {
            assertEquals(expected, actual);
            assertSame(expected.getClass(), actual.getClass(), "the same class");
            assertEquals(String.valueOf(expected), String.valueOf(actual), "the same order");
            assertThrows(ClassCastException.class, () -> {
                if (actual instanceof Map) {
                    ((Map) actual).put(1, 1);
                } else {
                    ((Collection) actual).add(1);
                }
            }, "the element type is kept");
        });
    }

    /** Sorted by a webapp comparator: the same class, content and order, and the comparator kept. */
    private static void sameOrderAndComparator(Object expected, Object actual) {
        assertSame(expected.getClass(), actual.getClass());
        assertEquals(expected, actual);
        assertEquals(String.valueOf(expected), String.valueOf(actual), "the same order");
        Comparator<?> cmp = actual instanceof java.util.SortedSet ? ((java.util.SortedSet<?>) actual).comparator()
                : ((java.util.SortedMap<?, ?>) actual).comparator();
        assertSame(ByLength.class, cmp == null ? null : cmp.getClass(), "the comparator is kept");
    }

    private static void sameElementsAndCapacity(Object expected, Object actual) {
        sameElements(expected, actual);
        assertEquals(((BlockingQueue<?>) expected).remainingCapacity(), ((BlockingQueue<?>) actual).remainingCapacity(),
                "the same capacity");
    }

    private static void sameElements(Object expected, Object actual) {
        assertSame(expected.getClass(), actual.getClass());
        assertEquals(new ArrayList<>((Collection<?>) expected), new ArrayList<>((Collection<?>) actual));
    }

    private static List<Object> drain(PriorityQueue<?> q) {
        List<Object> out = new ArrayList<>();
        while (!q.isEmpty()) {
            out.add(q.poll());
        }
        return out;
    }

    private static TreeSet<String> reversed(Collection<String> items) {
        TreeSet<String> s = new TreeSet<>(Collections.reverseOrder());
        s.addAll(items);
        return s;
    }

    private static LinkedHashMap<String, Integer> linkedMap(boolean accessOrder) {
        LinkedHashMap<String, Integer> m = new LinkedHashMap<>(16, 0.75f, accessOrder);
        m.put("first", 1);
        m.put("second", 2);
        m.put("third", 3);
        return m;
    }

    public static SecurityContextImpl securityContext() {
        User user = new User("alice", "", true, true, true, true,
                List.of(new SimpleGrantedAuthority("ROLE_USER"), new SimpleGrantedAuthority("ROLE_ADMIN")));
        return new SecurityContextImpl(UsernamePasswordAuthenticationToken.authenticated(user, null,
                user.getAuthorities()));
    }

    private static void sameSecurityContext(Object expected, Object actual) {
        SecurityContextImpl back = (SecurityContextImpl) actual;
        assertEquals(expected, back);
        UsernamePasswordAuthenticationToken token = (UsernamePasswordAuthenticationToken) back.getAuthentication();
        assertTrue(token.isAuthenticated());
        User user = (User) token.getPrincipal();
        assertEquals("alice", user.getUsername());
        assertEquals(Set.of(new SimpleGrantedAuthority("ROLE_USER"), new SimpleGrantedAuthority("ROLE_ADMIN")),
                user.getAuthorities());
        assertEquals(new ArrayList<>(((SecurityContextImpl) expected).getAuthentication().getAuthorities()),
                new ArrayList<>(token.getAuthorities()));
        assertTrue(user.isEnabled() && user.isAccountNonLocked());
    }

    // ---- the webapp's own classes ----

    public enum Planet { EARTH, MARS }

    public enum Op {
        PLUS {
            @Override
            int apply(int a, int b) {
                return a + b;
            }
        },
        MINUS {
            @Override
            int apply(int a, int b) {
                return a - b;
            }
        };

        abstract int apply(int a, int b);
    }

    public static final class ByLength implements Comparator<String>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(String a, String b) {
            return Integer.compare(a.length(), b.length());
        }
    }

    public static final class Point implements Serializable {
        private static final long serialVersionUID = 1L;
        final int x;
        final int y;

        public Point(int x, int y) {
            this.x = x;
            this.y = y;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Point && ((Point) o).x == x && ((Point) o).y == y;
        }

        @Override
        public int hashCode() {
            return 31 * x + y;
        }
    }

    public record Range(int from, int to) implements Serializable {
    }

    public record Holder(String value) implements Serializable {
    }

    public static final class Arrays2 implements Serializable {
        private static final long serialVersionUID = 1L;
        final int[] numbers;
        final String[] names;

        Arrays2(int[] numbers, String[] names) {
            this.numbers = numbers;
            this.names = names;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Arrays2)) {
                return false;
            }
            assertArrayEquals(numbers, ((Arrays2) o).numbers);
            assertArrayEquals(names, ((Arrays2) o).names);
            return true;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(numbers);
        }
    }

    public static final class Outer implements Serializable {
        private static final long serialVersionUID = 1L;
        final String label;

        Outer(String label) {
            this.label = label;
        }

        public final class Inner implements Serializable {
            private static final long serialVersionUID = 1L;
            final int value;

            Inner(int value) {
                this.value = value;
            }

            String outerLabel() {
                return label;
            }
        }
    }

    public interface Greeting extends Serializable {
        String greet();

        static Greeting anonymous(String name) {
            return new Greeting() {
                private static final long serialVersionUID = 1L;

                @Override
                public String greet() {
                    return "hello " + name;
                }
            };
        }
    }

    public static final class Node implements Serializable {
        private static final long serialVersionUID = 1L;
        final String name;
        Node next;

        Node(String name) {
            this.name = name;
        }
    }

    /** Writes its state itself and rebuilds a transient field on reading. */
    public static final class Custom implements Serializable {
        private static final long serialVersionUID = 1L;
        private String base;
        private transient String derived;

        Custom(String base) {
            this.base = base;
            this.derived = base.toUpperCase(Locale.ROOT);
        }

        private void writeObject(ObjectOutputStream out) throws IOException {
            out.writeUTF(new StringBuilder(base).reverse().toString());
        }

        private void readObject(ObjectInputStream in) throws IOException {
            base = new StringBuilder(in.readUTF()).reverse().toString();
            derived = base.toUpperCase(Locale.ROOT);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Custom && ((Custom) o).base.equals(base) && ((Custom) o).derived.equals(derived);
        }

        @Override
        public int hashCode() {
            return base.hashCode();
        }
    }

    /** Stored as a stand-in that turns back into it. */
    public static final class Replaced implements Serializable {
        private static final long serialVersionUID = 1L;
        final String value;

        Replaced(String value) {
            this.value = value;
        }

        private Object writeReplace() {
            return new StandIn(value);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Replaced && ((Replaced) o).value.equals(value);
        }

        @Override
        public int hashCode() {
            return value.hashCode();
        }
    }

    static final class StandIn implements Serializable {
        private static final long serialVersionUID = 1L;
        final String value;

        StandIn(String value) {
            this.value = value;
        }

        private Object readResolve() {
            return new Replaced(value);
        }
    }

    public static final class Problem extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Problem(String message) {
            super(message);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Problem && ((Problem) o).getMessage().equals(getMessage())
                    && Arrays.equals(((Problem) o).getStackTrace(), getStackTrace());
        }

        @Override
        public int hashCode() {
            return getMessage().hashCode();
        }
    }
}

package io.msm.serializers.kryo;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.net.URL;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Date;
import java.util.GregorianCalendar;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.Locale;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

import org.objenesis.strategy.StdInstantiatorStrategy;

import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.serializers.ClosureSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.AtomicBooleanSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.AtomicIntegerSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.AtomicLongSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.AtomicReferenceSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.CalendarSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.PatternSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.TimeZoneSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.TimestampSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.URISerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.URLSerializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers.UUIDSerializer;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;

import io.msm.serializers.JavaSerialization;
import io.msm.serializers.SerialFilter;

/** One Kryo configured for session content: filtered class names, bounded input, our serializers. */
final class KryoSetup {
    /**
     * Classes written as a number instead of their name. The numbers are stored in sessions:
     * only ever append to this list.
     */
    private static final Class<?>[] REGISTERED = {ArrayList.class, HashMap.class, LinkedHashMap.class,
        HashSet.class, LinkedHashSet.class, TreeMap.class, TreeSet.class, LinkedList.class, ConcurrentHashMap.class,
        CopyOnWriteArrayList.class, Date.class, GregorianCalendar.class, BigDecimal.class, BigInteger.class,
        Locale.class, UUID.class, URI.class, URL.class, Pattern.class, Instant.class, LocalDate.class,
        LocalDateTime.class, LocalTime.class, ZonedDateTime.class, OffsetDateTime.class, Duration.class,
        AtomicInteger.class, AtomicLong.class, Object[].class, String[].class, int[].class, long[].class,
        byte[].class};
    private static final int FIRST_ID = 20;
    private static final int CLOSURE_ID = 19;

    private KryoSetup() {
    }

    static SessionKryo create(ClassLoader loader, SerialFilter filter, JavaSerialization java, Rejections rejections) {
        SessionKryo kryo = new SessionKryo(new FilteringClassResolver(filter, rejections), rejections);
        kryo.setRegistrationRequired(false);
        kryo.setClassLoader(loader);
        kryo.setMaxDepth(filter.maxDepth());
        // A public no-argument constructor where there is one, the JDK's serialization constructor otherwise.
        kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
        Serializer<Object> javaBridge = new JavaBridgeSerializer(java, rejections);
        kryo.setDefaultSerializer(new SessionSerializerFactory(javaBridge, filter, rejections));
        WrapperSerializer.register(kryo);
        OrderedMapSerializers.register(kryo, javaBridge);
        CheckedSerializers.register(kryo);
        JdkCollectionSerializers.register(kryo, javaBridge);
        kryo.addDefaultSerializer(Locale.class, new LocaleSerializer());
        // Kryo's serializers keep only the id of a time zone and turn every calendar into a
        // GregorianCalendar: right for the JDK's own zones and for GregorianCalendar, not for the rest.
        kryo.addDefaultSerializer(TimeZone.getTimeZone("UTC").getClass(), new TimeZoneSerializer());
        kryo.addDefaultSerializer(TimeZone.class, javaBridge);
        kryo.addDefaultSerializer(GregorianCalendar.class, new CalendarSerializer());
        kryo.addDefaultSerializer(Timestamp.class, new TimestampSerializer()); // with its nanoseconds
        kryo.addDefaultSerializer(Calendar.class, javaBridge);
        kryo.addDefaultSerializer(URI.class, new URISerializer());
        kryo.addDefaultSerializer(UUID.class, new UUIDSerializer());
        kryo.addDefaultSerializer(Pattern.class, new PatternSerializer());
        kryo.addDefaultSerializer(AtomicBoolean.class, new AtomicBooleanSerializer());
        kryo.addDefaultSerializer(AtomicInteger.class, new AtomicIntegerSerializer());
        kryo.addDefaultSerializer(AtomicLong.class, new AtomicLongSerializer());
        kryo.addDefaultSerializer(AtomicReference.class, new AtomicReferenceSerializer());
        for (int i = 0; i < REGISTERED.length; i++) {
            kryo.register(REGISTERED[i], FIRST_ID + i);
        }
        kryo.getRegistration(URL.class).setSerializer(
                new FilteredRegistrationSerializer<>(URL.class, new URLSerializer(), filter, rejections));
        // Kryo writes every lambda as this one class; serializable lambdas go through SerializedLambda.
        kryo.register(ClosureSerializer.Closure.class, javaBridge, CLOSURE_ID);
        return kryo;
    }
}

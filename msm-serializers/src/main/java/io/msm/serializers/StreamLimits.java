package io.msm.serializers;

import java.io.ObjectInputStream;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;

/**
 * Applies {@link SerialFilter}'s depth, array and reference limits and the deadline of a
 * {@link DecodeGuard} to an {@link ObjectInputStream} through the JDK's stream filter (JEP 290): {@code java.io.ObjectInputFilter} from Java 9, or
 * {@code sun.misc.ObjectInputFilter} on Java 8u121 and later. The code is compiled for Java 8, so
 * the filter interface is implemented at run time with {@link LambdaMetafactory} and its info read
 * through method handles held in constants: the JDK calls the filter for every object, array,
 * class and reference in the stream, and a reflective proxy there cost several percent of
 * deserialization. Class names are checked separately, before loading.
 *
 * <p>A stream's own filter replaces the JVM-wide one ({@code jdk.serialFilter}) for that stream, so
 * this one asks the JVM-wide filter too, when one is set: what the operator refused for the whole
 * JVM stays refused in sessions.
 */
final class StreamLimits {
    private static final Api API = Api.find();
    /** (FilterInfo as Object) → long */
    private static final MethodHandle DEPTH = API == null ? null : API.depth;
    private static final MethodHandle ARRAY_LENGTH = API == null ? null : API.arrayLength;
    private static final MethodHandle REFERENCES = API == null ? null : API.references;
    /** (ObjectInputStream, filter as Object) → void */
    private static final MethodHandle SET_FILTER = API == null ? null : API.setFilter;
    /** (Check) → filter */
    private static final MethodHandle NEW_FILTER = API == null ? null : API.newFilter;
    private static final Object UNDECIDED = API == null ? null : API.undecided;
    private static final Object REJECTED = API == null ? null : API.rejected;
    /** () → the JVM-wide filter as Object, or null */
    private static final MethodHandle JVM_FILTER = API == null ? null : API.jvmFilter;
    /** (filter as Object, FilterInfo as Object) → status as Object */
    private static final MethodHandle CHECK_INPUT = API == null ? null : API.checkInput;
    /** (FilterInfo as Object) → Class */
    private static final MethodHandle SERIAL_CLASS = API == null ? null : API.serialClass;

    private static final AtomicBoolean MISSING_REPORTED = new AtomicBoolean();

    private StreamLimits() {
    }

    /**
     * Says once per JVM, in a WARN, that this JVM has no stream filter: the checks it makes while a
     * session is read are then off, and a protection must not drop out without a word.
     */
    static void reportIfMissing(Logger log) {
        String warning = missing(API != null, System.getProperty("java.version"));
        if (warning != null && MISSING_REPORTED.compareAndSet(false, true)) {
            log.warn(warning);
        }
    }

    /** @return the WARN for a JVM without stream filters, or null when {@code found} */
    static String missing(boolean found, String javaVersion) {
        if (found) {
            return null;
        }
        return SerialFilter.ATTRIBUTE + ": msm found no serialization stream filter it can use in this JVM (Java "
                + javaVersion + "; JEP 290 came with Java 8u121, and a security manager can hide it), so the checks"
                + " made while a session is read are off: the"
                + " maxdepth, maxarray and maxrefs limits a second time after the pre-read, the maxmillis deadline"
                + " while objects are built, and the JVM-wide jdk.serialFilter. Class names and the pre-read's"
                + " limits are still checked. Update Java to 8u121 or later, or let msm reach java.io.ObjectInputFilter.";
    }

    /**
     * @return a stream filter for these limits and this decode's deadline, or null on a JDK without
     *     stream filters or without checks; one per stream
     */
    static Object create(SerialFilter limits, DecodeGuard guard) {
        if (API == null || !limits.isChecking()) {
            return null;
        }
        try {
            return NEW_FILTER.invoke(new Check(limits, guard, JVM_FILTER.invoke()));
        } catch (Throwable e) {
            throw new IllegalStateException("msm's stream filter cannot be made: " + e, e);
        }
    }

    static void install(ObjectInputStream in, Object streamFilter) {
        if (streamFilter == null) {
            return;
        }
        try {
            SET_FILTER.invokeExact(in, streamFilter);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("the JDK refused msm's stream filter: " + e, e);
        }
    }

    /** What the filter does for each entry of the stream; rejects by throwing, so the stream's error names why. */
    static final class Check {
        private final SerialFilter limits;
        private final DecodeGuard guard;
        /** The JVM-wide filter when this stream was made, or null. */
        private final Object jvmFilter;

        Check(SerialFilter limits, DecodeGuard guard, Object jvmFilter) {
            this.limits = limits;
            this.guard = guard;
            this.jvmFilter = jvmFilter;
        }

        Object checkInput(Object info) {
            long depth;
            long length;
            long references;
            try {
                depth = (long) DEPTH.invokeExact(info);
                length = (long) ARRAY_LENGTH.invokeExact(info);
                references = (long) REFERENCES.invokeExact(info);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
            guard.tick();
            if (depth > limits.maxDepth()) {
                throw RejectedContentException.limit("object graph deeper than " + SerialFilter.ATTRIBUTE
                        + " maxdepth=" + limits.maxDepth());
            }
            if (length > limits.maxArray()) {
                throw RejectedContentException.limit("an array of " + length + " elements exceeds "
                        + SerialFilter.ATTRIBUTE + " maxarray=" + limits.maxArray());
            }
            if (references > limits.maxRefs()) { // the stream's own count; the pre-read counts the session's
                throw RejectedContentException.limit("more than " + SerialFilter.ATTRIBUTE + " maxrefs="
                        + limits.maxRefs() + " objects and references");
            }
            if (jvmFilter != null) {
                checkJvmWide(info);
            }
            return UNDECIDED;
        }

        private void checkJvmWide(Object info) {
            Object status;
            Class<?> type;
            try {
                status = CHECK_INPUT.invokeExact(jvmFilter, info);
                type = (Class<?>) SERIAL_CLASS.invokeExact(info);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
            if (status == REJECTED) {
                throw new RejectedContentException((type == null ? "an object, array or reference" : "class "
                        + type.getName()) + " is rejected by the JVM-wide filter (jdk.serialFilter)");
            }
        }
    }

    /** The handles of one of the two filter APIs. */
    private static final class Api {
        final MethodHandle setFilter;
        final MethodHandle depth;
        final MethodHandle arrayLength;
        final MethodHandle references;
        final MethodHandle newFilter;
        final Object undecided;
        final Object rejected;
        final MethodHandle jvmFilter;
        final MethodHandle checkInput;
        final MethodHandle serialClass;

        private Api(Class<?> filterType, MethodHandle setFilter) throws Throwable {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            Class<?> info = Class.forName(filterType.getName() + "$FilterInfo");
            Class<?> status = Class.forName(filterType.getName() + "$Status");
            MethodType toLong = MethodType.methodType(long.class, Object.class);
            this.setFilter = setFilter.asType(MethodType.methodType(void.class, ObjectInputStream.class, Object.class));
            this.depth = lookup.findVirtual(info, "depth", MethodType.methodType(long.class)).asType(toLong);
            this.arrayLength = lookup.findVirtual(info, "arrayLength", MethodType.methodType(long.class))
                    .asType(toLong);
            this.references = lookup.findVirtual(info, "references", MethodType.methodType(long.class))
                    .asType(toLong);
            this.undecided = status.getField("UNDECIDED").get(null);
            this.rejected = status.getField("REJECTED").get(null);
            Class<?> config = Class.forName(filterType.getName() + "$Config");
            this.jvmFilter = lookup.findStatic(config, "getSerialFilter", MethodType.methodType(filterType))
                    .asType(MethodType.methodType(Object.class));
            this.checkInput = lookup.findVirtual(filterType, "checkInput", MethodType.methodType(status, info))
                    .asType(MethodType.methodType(Object.class, Object.class, Object.class));
            this.serialClass = lookup.findVirtual(info, "serialClass", MethodType.methodType(Class.class))
                    .asType(MethodType.methodType(Class.class, Object.class));
            MethodType checkInput = MethodType.methodType(status, info);
            this.newFilter = LambdaMetafactory.metafactory(lookup, "checkInput",
                    MethodType.methodType(filterType, Check.class), checkInput,
                    lookup.findVirtual(Check.class, "checkInput", MethodType.methodType(Object.class, Object.class)),
                    checkInput).getTarget().asType(MethodType.methodType(Object.class, Check.class));
        }

        static Api find() {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            try {
                Class<?> type = Class.forName("java.io.ObjectInputFilter");
                return new Api(type, lookup.findVirtual(ObjectInputStream.class, "setObjectInputFilter",
                        MethodType.methodType(void.class, type)));
            } catch (Throwable e) {
                try {
                    Class<?> type = Class.forName("sun.misc.ObjectInputFilter");
                    Class<?> config = Class.forName("sun.misc.ObjectInputFilter$Config");
                    return new Api(type, lookup.findStatic(config, "setObjectInputFilter",
                            MethodType.methodType(void.class, ObjectInputStream.class, type)));
                } catch (Throwable e2) {
                    return null;
                }
            }
        }
    }
}

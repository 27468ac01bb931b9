package io.msm.serializers;

import java.io.ObjectInputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Applies {@link SerialFilter}'s depth and array limits to an {@link ObjectInputStream} through the
 * JDK's stream filter (JEP 290): {@code java.io.ObjectInputFilter} from Java 9, or
 * {@code sun.misc.ObjectInputFilter} on Java 8u121 and later. Reached by reflection because the
 * code is compiled for Java 8; class names are checked separately, before loading.
 */
final class StreamLimits {
    private static final Api API = Api.find();

    private StreamLimits() {
    }

    /** @return a stream filter for these limits, or null on a JDK without stream filters or without checks */
    static Object create(SerialFilter limits) {
        if (API == null || !limits.isChecking()) {
            return null;
        }
        InvocationHandler handler = (proxy, method, args) -> {
            switch (method.getName()) {
                case "checkInput":
                    return API.check(args[0], limits);
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "msm serialFilter limits";
                default:
                    throw new UnsupportedOperationException(method.getName());
            }
        };
        return Proxy.newProxyInstance(StreamLimits.class.getClassLoader(), new Class<?>[] {API.filterType}, handler);
    }

    static void install(ObjectInputStream in, Object streamFilter) {
        if (streamFilter != null) {
            API.install(in, streamFilter);
        }
    }

    /** The reflective handles of one of the two filter APIs. */
    private static final class Api {
        final Class<?> filterType;
        private final Method setFilter;
        private final boolean staticSetter;
        private final Method depth;
        private final Method arrayLength;
        private final Object undecided;

        private Api(Class<?> filterType, Method setFilter, boolean staticSetter) throws ReflectiveOperationException {
            this.filterType = filterType;
            this.setFilter = setFilter;
            this.staticSetter = staticSetter;
            Class<?> info = Class.forName(filterType.getName() + "$FilterInfo");
            this.depth = info.getMethod("depth");
            this.arrayLength = info.getMethod("arrayLength");
            Class<?> status = Class.forName(filterType.getName() + "$Status");
            this.undecided = status.getField("UNDECIDED").get(null);
        }

        static Api find() {
            try {
                Class<?> type = Class.forName("java.io.ObjectInputFilter");
                return new Api(type, ObjectInputStream.class.getMethod("setObjectInputFilter", type), false);
            } catch (ReflectiveOperationException | RuntimeException e) {
                try {
                    Class<?> type = Class.forName("sun.misc.ObjectInputFilter");
                    Class<?> config = Class.forName("sun.misc.ObjectInputFilter$Config");
                    return new Api(type, config.getMethod("setObjectInputFilter", ObjectInputStream.class, type), true);
                } catch (ReflectiveOperationException | RuntimeException e2) {
                    return null;
                }
            }
        }

        /** Rejects by throwing, so that the stream's error carries a {@link RejectedContentException}. */
        Object check(Object info, SerialFilter limits) throws ReflectiveOperationException {
            long d = (Long) depth.invoke(info);
            if (d > limits.maxDepth()) {
                throw new RejectedContentException("object graph deeper than " + SerialFilter.ATTRIBUTE
                        + " maxdepth=" + limits.maxDepth());
            }
            long length = (Long) arrayLength.invoke(info);
            if (length > limits.maxArray()) {
                throw new RejectedContentException("an array of " + length + " elements exceeds "
                        + SerialFilter.ATTRIBUTE + " maxarray=" + limits.maxArray());
            }
            return undecided;
        }

        void install(ObjectInputStream in, Object filter) {
            try {
                if (staticSetter) {
                    setFilter.invoke(null, in, filter);
                } else {
                    setFilter.invoke(in, filter);
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("the JDK refused msm's stream filter: " + e, e);
            }
        }
    }
}

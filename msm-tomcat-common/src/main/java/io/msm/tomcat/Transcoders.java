package io.msm.tomcat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.juli.logging.Log;

import io.msm.core.Settings;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderFactory;
import io.msm.serializers.JavaSerializationTranscoderFactory;
import io.msm.serializers.kryo.KryoTranscoderFactory;

/**
 * Finds the factory named by {@code transcoderFactoryClass}: in the webapp first, then beside msm.
 * The class names of the older memcached-session-manager are accepted for ours, so that a
 * migration changes nothing else in the context file.
 */
final class Transcoders {
    private static final Log LOG = TomcatLogs.get(Transcoders.class);
    private static final Map<String, String> ALIASES = new HashMap<>();

    static {
        ALIASES.put("de.javakaffee.web.msm.JavaSerializationTranscoderFactory",
                JavaSerializationTranscoderFactory.class.getName());
        ALIASES.put("de.javakaffee.web.msm.serializer.kryo.KryoTranscoderFactory",
                KryoTranscoderFactory.class.getName());
    }

    private Transcoders() {
    }

    /** @return our factory's name for an old memcached-session-manager name, else the name as written */
    private static String resolveAlias(String attribute, String className) {
        String ours = ALIASES.get(className);
        if (ours == null) {
            return className;
        }
        LOG.info(attribute + ": '" + className + "' is the older memcached-session-manager's"
                + " name; msm uses " + ours + " instead (write that name to silence this line)");
        return ours;
    }

    /**
     * @param errors receives one line per problem, as every other attribute's: the class is missing
     *     or no factory, or {@code serialFilter} is malformed (the transcoders parse it)
     * @return the transcoder for new frames, or null after a problem
     */
    static Transcoder create(String configuredName, TranscoderContext context, List<String> errors) {
        return create(Settings.TRANSCODER_FACTORY_CLASS, configuredName, context, errors);
    }

    private static Transcoder create(String attribute, String configuredName, TranscoderContext context,
            List<String> errors) {
        String className = resolveAlias(attribute, configuredName);
        ClassLoader webapp = context.classLoader();
        Class<?> type;
        try {
            type = load(className, webapp);
            if (type == null) {
                errors.add(attribute + ": class '" + className + "' is not found in the webapp nor beside msm; write "
                        + Settings.DEFAULT_TRANSCODER_FACTORY + ", " + Settings.KRYO_TRANSCODER_FACTORY
                        + " or the name of a class on the classpath");
                return null;
            }
        } catch (LinkageError | RuntimeException e) {
            // Found but not loadable: 2.3.2's factory left in WEB-INF/lib without the jars it needs, or a class
            // built for a newer Java. Named here with the other attributes' problems, not as a stack trace.
            errors.add(attribute + ": class '" + className + "' is there but cannot be loaded (" + e
                    + "); write " + Settings.DEFAULT_TRANSCODER_FACTORY + " or " + Settings.KRYO_TRANSCODER_FACTORY
                    + ", and remove memcached-session-manager's jars from WEB-INF/lib and tomcat/lib");
            return null;
        }
        if (!TranscoderFactory.class.isAssignableFrom(type)) {
            errors.add(attribute + ": class '" + className + "' does not implement "
                    + TranscoderFactory.class.getName());
            return null;
        }
        TranscoderFactory factory;
        try {
            factory = (TranscoderFactory) type.getConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            errors.add(attribute + ": '" + className + "' cannot be created (it needs a public no-argument constructor): " + e);
            return null;
        }
        try {
            return factory.create(context);
        } catch (IllegalArgumentException e) {
            errors.add(e.getMessage()); // a malformed serialFilter, named by the transcoder
            return null;
        }
    }

    /** @return the class from the webapp, else from beside msm; null when neither has it */
    private static Class<?> load(String className, ClassLoader webapp) {
        try {
            return Class.forName(className, true, webapp);
        } catch (ClassNotFoundException e) {
            try {
                return Class.forName(className, true, Transcoders.class.getClassLoader());
            } catch (ClassNotFoundException e2) {
                return null;
            }
        }
    }

    /**
     * The transcoders of {@code readTranscoderFactoryClasses}: each frame names its transcoder, and a
     * Tomcat reads only the frames of the transcoders it is configured with, so that bytes planted in
     * memcached meet one deserializer, not every one msm ships. They share the context, so the same
     * {@code serialFilter} guards them all.
     */
    static List<Transcoder> readers(List<String> configuredNames, TranscoderContext context, List<String> errors) {
        List<Transcoder> readers = new ArrayList<>();
        for (String name : configuredNames) {
            Transcoder reader = create(Settings.READ_TRANSCODER_FACTORY_CLASSES, name, context, errors);
            if (reader != null) {
                readers.add(reader);
            }
        }
        return readers;
    }

    /** Every transcoder msm ships, for frames that never left this JVM (sessions kept over a reload). */
    static List<Transcoder> shipped(TranscoderContext context) {
        List<Transcoder> shipped = new ArrayList<>();
        shipped.add(new JavaSerializationTranscoderFactory().create(context));
        shipped.add(new KryoTranscoderFactory().create(context));
        return shipped;
    }
}

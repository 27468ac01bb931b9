package io.msm.tomcat;

import java.util.ArrayList;
import java.util.List;

import org.apache.catalina.LifecycleException;

import io.msm.core.Settings;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;
import io.msm.core.TranscoderFactory;
import io.msm.serializers.JavaSerializationTranscoderFactory;

/** Finds the factory named by {@code transcoderFactoryClass}: in the webapp first, then beside msm. */
final class Transcoders {
    private Transcoders() {
    }

    static Transcoder create(String className, TranscoderContext context) throws LifecycleException {
        ClassLoader webapp = context.classLoader();
        Class<?> type;
        try {
            type = Class.forName(className, true, webapp);
        } catch (ClassNotFoundException e) {
            try {
                type = Class.forName(className, true, Transcoders.class.getClassLoader());
            } catch (ClassNotFoundException e2) {
                throw new LifecycleException(Settings.TRANSCODER_FACTORY_CLASS + ": class '" + className
                        + "' is not found in the webapp nor beside msm; write "
                        + Settings.DEFAULT_TRANSCODER_FACTORY + " or the name of a class on the classpath");
            }
        }
        if (!TranscoderFactory.class.isAssignableFrom(type)) {
            throw new LifecycleException(Settings.TRANSCODER_FACTORY_CLASS + ": class '" + className
                    + "' does not implement " + TranscoderFactory.class.getName());
        }
        try {
            return ((TranscoderFactory) type.getConstructor().newInstance()).create(context);
        } catch (IllegalArgumentException e) {
            throw new LifecycleException(e.getMessage(), e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new LifecycleException(Settings.TRANSCODER_FACTORY_CLASS + ": '" + className
                    + "' cannot be created (it needs a public no-argument constructor): " + e, e);
        }
    }

    /** Transcoders kept for reading frames that an earlier configuration wrote. */
    static List<Transcoder> readers(TranscoderContext context) {
        List<Transcoder> readers = new ArrayList<>();
        readers.add(new JavaSerializationTranscoderFactory().create(context));
        return readers;
    }
}

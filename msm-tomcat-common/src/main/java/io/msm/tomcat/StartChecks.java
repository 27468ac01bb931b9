package io.msm.tomcat;

import java.util.List;

import org.apache.catalina.Context;

import io.msm.core.KeyLimits;
import io.msm.core.Msm2Format;
import io.msm.core.Settings;
import io.msm.core.StorageKeyPrefix;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;
import io.msm.serializers.Msm2JavaSerialization;

/**
 * What is checked beside the attributes' text, so that its problems join the one list: the
 * transcoders are created (a bad class or serialFilter), and the longest key fits memcached.
 */
final class StartChecks implements Settings.Check {
    private final ClassLoader webapp;
    private final String host;
    private final Context context;
    private final int randomLength;
    Transcoder writer;
    List<Transcoder> readers;
    String prefix;
    /** Null without {@code compatibility}. */
    Msm2Format msm2;
    private TranscoderContext transcoding;

    StartChecks(ClassLoader webapp, String host, Context context, int randomLength) {
        this.webapp = webapp;
        this.host = host;
        this.context = context;
        this.randomLength = randomLength;
    }

    @Override
    public void run(Settings settings, List<String> errors) {
        if (!settings.enabled()) {
            return;
        }
        prefix = StorageKeyPrefix.build(settings.storageKeyPrefix(), host, context.getName(),
                context.getWebappVersion());
        KeyLimits.check(settings, prefix, randomLength, context.getName(), errors);
        transcoding = new TranscoderContext(webapp, settings.serialFilter(), settings.serialFilterReportOnly());
        writer = Transcoders.create(settings.transcoderFactoryClass(), transcoding, errors);
        if (writer != null) { // else a bad serialFilter, which every transcoder parses, is named once
            readers = Transcoders.readers(settings.readTranscoderFactoryClasses(), transcoding, errors);
        }
        if (settings.compatibility() != Settings.Compatibility.NONE) {
            String factory = settings.transcoderFactoryClass();
            if (factory.startsWith("de.javakaffee.") && !factory.endsWith(".JavaSerializationTranscoderFactory")) {
                errors.add(Settings.COMPATIBILITY + ": memcached-session-manager 2.3.2's copies are shared in its Java"
                        + " serialization only, and its Tomcats write " + factory + "; switch them to"
                        + " de.javakaffee.web.msm.JavaSerializationTranscoderFactory first, or switch in one step"
                        + " without compatibility (users log in again)");
            }
            msm2 = writer == null ? null : new Msm2Format(StorageKeyPrefix.buildMsm2(settings.msm2StorageKeyPrefix(), host, context.getName(),
                    context.getWebappVersion()), new Msm2JavaSerialization(transcoding));
        }
    }

    /** @return every transcoder msm ships, for sessions the previous start of the webapp kept in this JVM */
    List<Transcoder> shipped() {
        return Transcoders.shipped(transcoding);
    }
}

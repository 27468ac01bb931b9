package io.msm.tomcat;

import java.util.List;

import org.apache.catalina.Context;

import io.msm.core.KeyLimits;
import io.msm.core.Settings;
import io.msm.core.StorageKeyPrefix;
import io.msm.core.Transcoder;
import io.msm.core.TranscoderContext;

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
        TranscoderContext transcoding = new TranscoderContext(webapp, settings.serialFilter(),
                settings.serialFilterReportOnly());
        writer = Transcoders.create(settings.transcoderFactoryClass(), transcoding, errors);
        if (writer != null) {
            readers = Transcoders.readers(transcoding);
        }
    }
}

package io.msm.serializers.kryo;

import java.util.Locale;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ImmutableSerializer;

/**
 * Locales with a script or extensions ({@code sr-Latn-RS}) as their language tag, which Kryo's own
 * serializer drops; the others as language, country and variant, which keeps legacy variants
 * ({@code ja_JP_JP}) that a language tag would change.
 */
final class LocaleSerializer extends ImmutableSerializer<Locale> {
    @Override
    public void write(Kryo kryo, Output output, Locale locale) {
        boolean tagged = !locale.getScript().isEmpty() || locale.hasExtensions();
        output.writeBoolean(tagged);
        if (tagged) {
            output.writeString(locale.toLanguageTag());
        } else {
            output.writeString(locale.getLanguage());
            output.writeString(locale.getCountry());
            output.writeString(locale.getVariant());
        }
    }

    @Override
    public Locale read(Kryo kryo, Input input, Class<? extends Locale> type) {
        if (input.readBoolean()) {
            return Locale.forLanguageTag(input.readString());
        }
        return new Locale(input.readString(), input.readString(), input.readString());
    }
}

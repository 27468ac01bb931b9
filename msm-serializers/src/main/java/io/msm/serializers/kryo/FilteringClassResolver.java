package io.msm.serializers.kryo;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.IntMap;
import com.esotericsoftware.kryo.util.ObjectMap;

import io.msm.serializers.SerialFilter;

/**
 * Kryo's class resolver with two changes: a class name read from the bytes goes through the
 * {@link SerialFilter} before it is loaded, and it is loaded only by the webapp's class loader,
 * never by msm's (which sees classes the webapp cannot).
 */
final class FilteringClassResolver extends DefaultClassResolver {
    private final SerialFilter filter;

    FilteringClassResolver(SerialFilter filter) {
        this.filter = filter;
    }

    @Override
    protected Registration readName(Input input) {
        int nameId = input.readVarInt(true);
        if (nameIdToClass == null) {
            nameIdToClass = new IntMap<>();
        }
        Class<?> type = nameIdToClass.get(nameId);
        if (type == null) {
            String className = input.readString();
            if (className == null) {
                throw new KryoException("class name missing");
            }
            filter.check(className);
            type = getTypeByName(className);
            if (type == null) {
                try {
                    type = Class.forName(className, false, kryo.getClassLoader());
                } catch (ClassNotFoundException e) {
                    throw new KryoException("Unable to find class: " + className, e);
                }
                if (nameToClass == null) {
                    nameToClass = new ObjectMap<>();
                }
                nameToClass.put(className, type);
            }
            nameIdToClass.put(nameId, type);
        }
        return kryo.getRegistration(type);
    }
}

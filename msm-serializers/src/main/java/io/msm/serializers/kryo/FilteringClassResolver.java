package io.msm.serializers.kryo;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.IntMap;
import com.esotericsoftware.kryo.util.ObjectMap;

import io.msm.serializers.RejectedContentException;
import io.msm.serializers.SerialFilter;

/**
 * Kryo's class resolver with three changes: a class name read from the bytes goes through the
 * {@link SerialFilter} before it is loaded, it is loaded only by the webapp's class loader, never
 * by msm's (which sees classes the webapp cannot), and a class the filter refuses is neither written
 * nor registered.
 */
final class FilteringClassResolver extends DefaultClassResolver {
    private final SerialFilter filter;
    private final Rejections rejections;

    FilteringClassResolver(SerialFilter filter, Rejections rejections) {
        this.filter = filter;
        this.rejections = rejections;
    }

    /**
     * A class the filter would refuse to read is not written either: the attribute is left out
     * instead. Checked when Kryo first meets the class, not each time it writes its name: a pooled
     * Kryo keeps its registrations, so a busy webapp pays the check once per class.
     */
    @Override
    public Registration registerImplicit(Class type) {
        filter.check(type);
        return super.registerImplicit(type);
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
            // Names this resolver loaded before have passed the filter already.
            type = getTypeByName(className);
            if (type == null) {
                try {
                    filter.check(className);
                } catch (RejectedContentException e) {
                    throw rejections.record(e);
                }
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

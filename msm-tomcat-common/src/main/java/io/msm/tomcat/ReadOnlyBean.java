package io.msm.tomcat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;

/** A JMX bean of read-only attributes, each read from a supplier when a monitor asks. */
final class ReadOnlyBean implements DynamicMBean {
    private final String description;
    private final Map<String, Supplier<Object>> values = new LinkedHashMap<>();
    private final Map<String, MBeanAttributeInfo> infos = new LinkedHashMap<>();

    ReadOnlyBean(String description) {
        this.description = description;
    }

    /** @param type the JMX type name: "long", "int" or "boolean" */
    ReadOnlyBean add(String name, String type, String meaning, Supplier<Object> value) {
        values.put(name, value);
        infos.put(name, new MBeanAttributeInfo(name, type, meaning, true, false, type.equals("boolean")));
        return this;
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        Supplier<Object> value = values.get(attribute);
        if (value == null) {
            throw new AttributeNotFoundException(attribute);
        }
        return value.get();
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException("msm statistics are read-only: " + attribute.getName());
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        AttributeList list = new AttributeList();
        for (String a : attributes) {
            Supplier<Object> value = values.get(a);
            if (value != null) { // an unknown one is left out, as JMX expects
                list.add(new Attribute(a, value.get()));
            }
        }
        return list;
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList(); // read-only: nothing was set
    }

    @Override
    public Object invoke(String actionName, Object[] params, String[] signature) {
        throw new UnsupportedOperationException("msm statistics have no operations");
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        return new MBeanInfo(getClass().getName(), description, infos.values().toArray(new MBeanAttributeInfo[0]),
                null, null, null);
    }
}

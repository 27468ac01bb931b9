package io.msm.tomcat;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.catalina.Context;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;

import io.msm.core.Statistics;

/**
 * The engine's counters as one JMX bean per webapp,
 * {@code io.msm:type=SessionStatistics,host=<host>,context=<path>}: one read-only attribute per counter.
 */
final class StatisticsMBean implements DynamicMBean {
    private static final Log LOG = LogFactory.getLog(StatisticsMBean.class);

    private final Statistics statistics;
    private final ObjectName name;

    private StatisticsMBean(Statistics statistics, ObjectName name) {
        this.statistics = statistics;
        this.name = name;
    }

    static StatisticsMBean register(Statistics statistics, Context context) {
        try {
            String path = context.getName().isEmpty() ? "/" : context.getName();
            ObjectName name = new ObjectName("io.msm:type=SessionStatistics,host="
                    + ObjectName.quote(context.getParent().getName()) + ",context=" + ObjectName.quote(path));
            StatisticsMBean bean = new StatisticsMBean(statistics, name);
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            if (server.isRegistered(name)) {
                server.unregisterMBean(name);
            }
            server.registerMBean(bean, name);
            return bean;
        } catch (JMException e) {
            LOG.warn("msm statistics are not available over JMX: " + e);
            return null;
        }
    }

    void unregister() {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (JMException e) {
            LOG.debug("msm statistics bean was not registered: " + e);
        }
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        switch (attribute) {
            case "MeanBackupMicros":
                return statistics.meanBackupMicros();
            case "MeanLoadMicros":
                return statistics.meanLoadMicros();
            default:
                for (Statistics.Counter c : Statistics.Counter.values()) {
                    if (c.name().equals(attribute)) {
                        return statistics.get(c);
                    }
                }
                throw new AttributeNotFoundException(attribute);
        }
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException("msm statistics are read-only: " + attribute.getName());
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList(); // read-only: nothing was set
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        AttributeList list = new AttributeList();
        for (String a : attributes) {
            try {
                list.add(new Attribute(a, getAttribute(a)));
            } catch (AttributeNotFoundException e) {
                // left out, as JMX expects
            }
        }
        return list;
    }

    @Override
    public Object invoke(String actionName, Object[] params, String[] signature) {
        throw new UnsupportedOperationException("msm statistics have no operations");
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        List<MBeanAttributeInfo> attrs = new ArrayList<>();
        for (Statistics.Counter c : Statistics.Counter.values()) {
            attrs.add(new MBeanAttributeInfo(c.name(), "long", "count of " + c.name().toLowerCase().replace('_', ' '),
                    true, false, false));
        }
        attrs.add(new MBeanAttributeInfo("MeanBackupMicros", "long", "mean time of a backup", true, false, false));
        attrs.add(new MBeanAttributeInfo("MeanLoadMicros", "long", "mean time of a load", true, false, false));
        return new MBeanInfo(getClass().getName(), "msm session statistics", attrs.toArray(new MBeanAttributeInfo[0]),
                null, null, null);
    }
}

package io.msm.tomcat;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.IntSupplier;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.catalina.Context;
import org.apache.juli.logging.Log;

import io.msm.core.NodeStatus;
import io.msm.core.SessionEngine;
import io.msm.core.Statistics;

/**
 * What a monitor reads over JMX, per webapp: {@code io.msm:type=SessionStatistics,host=<host>,context=<path>}
 * with every counter and the gauges (backup queue, sessions in memory, non-sticky sessions of the
 * last minute), and per memcached node {@code io.msm:type=MemcachedNode,host=<host>,context=<path>,node=<id>}
 * (up, last probe, latency of the last minute, failures). Values are quoted in the name only when
 * JMX requires it, so the names in the README are the names.
 */
final class StatisticsMBean {
    private static final Log LOG = TomcatLogs.get(StatisticsMBean.class);

    private final List<ObjectName> names = new ArrayList<>();

    private StatisticsMBean() {
    }

    /**
     * @param held adds the adapter's own per-session collections to the engine's, for the bean
     *     {@code io.msm:type=HeldEntries,...}: one attribute per collection with its entries
     * @param statistics false ({@code enableStatistics="false"}): the nodes' health only, which a
     *     monitor pages on, without the counters and the collections
     */
    static StatisticsMBean register(SessionEngine engine, Context context, IntSupplier sessionsInMemory,
            java.util.function.Consumer<java.util.Map<String, Integer>> held, boolean statistics) {
        StatisticsMBean registered = new StatisticsMBean();
        String path = context.getName().isEmpty() ? "/" : context.getName();
        String where = "host=" + value(context.getParent().getName()) + ",context=" + value(path);
        if (statistics) {
            registered.registerStatistics(engine, where, sessionsInMemory, held);
        }
        for (NodeStatus node : engine.nodeStatus()) {
            registered.registerNode(engine, where, node.id());
        }
        return registered;
    }

    private void registerStatistics(SessionEngine engine, String where, IntSupplier sessionsInMemory,
            java.util.function.Consumer<java.util.Map<String, Integer>> held) {
        Statistics statistics = engine.statistics();
        ReadOnlyBean main = new ReadOnlyBean("msm session statistics");
        for (Statistics.Counter c : Statistics.Counter.values()) {
            main.add(c.name(), "long", "count of " + c.name().toLowerCase(Locale.ROOT).replace('_', ' '),
                    () -> statistics.get(c));
        }
        main.add("MeanBackupMicros", "long", "mean time of a backup", statistics::meanBackupMicros)
                .add("MeanLoadMicros", "long", "mean time of a load", statistics::meanLoadMicros)
                .add("BackupQueueLength", "int", "sessions with a backup or deletion waiting",
                        engine::backupQueueLength)
                .add("SessionsInMemory", "int", "sessions this Tomcat holds in memory", sessionsInMemory::getAsInt)
                .add("NonStickySessionsLastMinute", "int", "non-sticky sessions this Tomcat served in the last minute",
                        engine::nonStickySessionsLastMinute);
        register("io.msm:type=SessionStatistics," + where, main);
        java.util.function.Supplier<java.util.Map<String, Integer>> entries = () -> {
            java.util.Map<String, Integer> all = engine.heldEntries();
            held.accept(all);
            return all;
        };
        ReadOnlyBean heldBean = new ReadOnlyBean("entries of the collections msm keeps per session, for a leak hunt");
        for (String name : entries.get().keySet()) {
            heldBean.add(name, "int", "entries of " + name, () -> entries.get().get(name));
        }
        register("io.msm:type=HeldEntries," + where, heldBean);
    }

    private void registerNode(SessionEngine engine, String where, String id) {
        Function<Function<NodeStatus, Object>, java.util.function.Supplier<Object>> of = f -> () -> {
            for (NodeStatus n : engine.nodeStatus()) {
                if (n.id().equals(id)) {
                    return f.apply(n);
                }
            }
            return null;
        };
        ReadOnlyBean bean = new ReadOnlyBean("one memcached node of msm")
                .add("Up", "boolean", "true while requests may use the node", of.apply(NodeStatus::up))
                .add("LastProbeMicros", "long", "round trip of the last health-check probe answered",
                        of.apply(NodeStatus::lastProbeMicros))
                .add("OperationsLastMinute", "long", "operations answered in the last minute",
                        of.apply(NodeStatus::operationsLastMinute))
                .add("MeanMicrosLastMinute", "long", "mean operation time of the last minute",
                        of.apply(NodeStatus::meanMicrosLastMinute))
                .add("P99MicrosLastMinute", "long", "99th percentile operation time of the last minute",
                        of.apply(NodeStatus::p99MicrosLastMinute))
                .add("Failures", "long", "operations that failed since start", of.apply(NodeStatus::failures));
        register("io.msm:type=MemcachedNode," + where + ",node=" + value(id), bean);
    }

    /** Quoted only when JMX requires it: a monitor's pattern then matches the plain name. */
    private static String value(String v) {
        for (char c : new char[] {',', '=', ':', '"', '*', '?', '\n'}) {
            if (v.indexOf(c) >= 0) {
                return ObjectName.quote(v);
            }
        }
        return v;
    }

    private void register(String name, Object bean) {
        try {
            ObjectName objectName = new ObjectName(name);
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            if (server.isRegistered(objectName)) {
                server.unregisterMBean(objectName);
            }
            server.registerMBean(bean, objectName);
            names.add(objectName);
        } catch (JMException e) {
            LOG.warn("msm statistics are not available over JMX as " + name + ": " + e);
        }
    }

    void unregister() {
        for (ObjectName name : names) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
            } catch (JMException e) {
                LOG.debug("msm statistics bean " + name + " was not registered: " + e);
            }
        }
    }
}

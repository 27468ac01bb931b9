package io.msm.benchmarks;

import java.lang.management.ManagementFactory;

/**
 * One line saying what the figures were measured on, with the load average: anything else busy on
 * the machine during a run shows there.
 */
final class Machine {
    private Machine() {
    }

    static String describe() {
        Runtime rt = Runtime.getRuntime();
        return String.format("Machine: %d cores (nproc), %s %s, load average %.2f; Java %s (%s %s); heap max %d MiB;"
                + " JVM flags %s", rt.availableProcessors(), System.getProperty("os.name"),
                System.getProperty("os.arch"), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                System.getProperty("java.runtime.version"), System.getProperty("java.vm.vendor"),
                System.getProperty("java.vm.name"), rt.maxMemory() >> 20,
                ManagementFactory.getRuntimeMXBean().getInputArguments());
    }
}

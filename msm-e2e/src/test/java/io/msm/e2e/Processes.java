package io.msm.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The Tomcat and httpd processes the end-to-end code starts (the testkit's MemcachedServer keeps
 * its own list of memcached processes): whatever is still running when the JVM exits, at a test's
 * end, on Ctrl-C of the demo or a kill of Maven, gets SIGTERM, then SIGKILL. A JVM killed with
 * SIGKILL runs nothing, so {@link #recordIn} also writes every PID to a file for a script to stop.
 */
final class Processes {
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();
    private static volatile Path pidFile;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Processes::stopAll, "e2e-processes"));
    }

    private Processes() {
    }

    /**
     * From now on, appends a line {@code <pid> <start time> <name>} per process started, the start
     * time being field 22 of /proc/<pid>/stat, so that a script kills that process and no other
     * that later got the same PID.
     */
    static void recordIn(Path file) {
        pidFile = file;
    }

    /** A process just started: stopped at the JVM's exit unless {@link #stopped} first. */
    static Process started(String name, Process process) {
        RUNNING.add(process);
        record(name, process.pid());
        return process;
    }

    /** A process someone else stops at the JVM's exit (memcached), written to the PID file only. */
    static void record(String name, long pid) {
        Path file = pidFile;
        if (file == null) {
            return;
        }
        try {
            Files.writeString(file, pid + " " + startTime(pid) + " " + name.replace(' ', '_') + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot record PID " + pid + " in " + file + ": " + e.getMessage());
        }
    }

    /** The process ended or was stopped by its owner. */
    static void stopped(Process process) {
        RUNNING.remove(process);
    }

    private static String startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            // pid (comm) state ppid ...: fields after the comm's closing parenthesis start at field 3
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return fields[22 - 3];
        } catch (IOException | RuntimeException e) {
            return "-";
        }
    }

    private static void stopAll() {
        RUNNING.forEach(Process::destroy); // SIGTERM: Tomcat and httpd stop in their own way
        long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
        for (Process p : RUNNING) {
            try {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
    }
}

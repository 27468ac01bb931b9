package io.msm.benchmarks;

import java.util.Arrays;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Entry point: {@code Bench load}, {@code Bench wrk}, {@code Bench fault}, {@code Bench soak}, {@code Bench memory}, or {@code Bench jmh [JMH
 * options]}. The load, wrk and memory benchmarks start and stop their own memcached processes and Tomcat.
 */
public final class Bench {
    /** Loggers kept quiet so that the console shows the figures; warnings still appear. */
    private static final Logger[] QUIET = {Logger.getLogger("org.apache"), Logger.getLogger("io.msm"),
            Logger.getLogger("de.javakaffee"), Logger.getLogger("net.spy")};

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        String what = args.length == 0 ? "" : args[0];
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        for (Logger l : QUIET) {
            l.setLevel(Level.WARNING);
        }
        int status;
        switch (what) {
            case "load":
                status = new LoadBenchmark(new BenchOptions()).run();
                break;
            case "wrk":
                status = new WrkBenchmark(new BenchOptions()).run();
                break;
            case "fault":
                status = new FaultRun(new BenchOptions()).run();
                break;
            case "soak":
                status = new SoakRun(new BenchOptions()).run();
                break;
            case "memory":
                status = new MemoryBenchmark(new BenchOptions()).run();
                break;
            case "jmh":
                org.openjdk.jmh.Main.main(rest);
                return;
            default:
                System.err.println("usage: Bench load | wrk | fault | soak | memory | jmh [JMH options]");
                status = 2;
        }
        System.exit(status);
    }
}

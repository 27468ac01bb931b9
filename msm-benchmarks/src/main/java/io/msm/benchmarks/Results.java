package io.msm.benchmarks;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

import io.msm.core.Statistics;

/** Collects the rounds and prints the tables: medians of the rounds, ratios to StandardManager. */
final class Results {
    /** The targets: throughput ratios to StandardManager, by mode and workload. */
    private static final Map<String, Double> TARGETS = Map.of(
            "sticky-async/read", 0.95, "sticky-async/write", 0.85,
            "sticky-sync/write", 0.6,
            "nonsticky-none/read", 0.3, "nonsticky-none/write", 0.2,
            "nonsticky-all/write", 0.15);

    private final List<Config> configs;
    private final List<String> workloads;
    private final Map<String, List<RoundResult>> rounds = new LinkedHashMap<>();
    private final Map<String, List<RoundResult>> warmUps = new LinkedHashMap<>();
    private final Map<String, Map<Statistics.Counter, Long>> counters = new LinkedHashMap<>();

    Results(List<Config> configs, List<String> workloads) {
        this.configs = configs;
        this.workloads = workloads;
    }

    void addWarmUp(Config c, String workload, RoundResult r) {
        warmUps.computeIfAbsent(key(c, workload), k -> new ArrayList<>()).add(r);
    }

    void add(Config c, String workload, RoundResult r, Map<Statistics.Counter, Long> counterDelta) {
        rounds.computeIfAbsent(key(c, workload), k -> new ArrayList<>()).add(r);
        Map<Statistics.Counter, Long> sum = counters.computeIfAbsent(key(c, workload), k -> new LinkedHashMap<>());
        counterDelta.forEach((k, v) -> sum.merge(k, v, Long::sum));
    }

    /** @return 0 when reported, 1 when refused */
    int report(PrintStream out) {
        List<String> refusals = refusals();
        if (!refusals.isEmpty()) {
            out.println("REFUSED: no table is reported, because requests failed where none may:");
            refusals.forEach(r -> out.println("  " + r));
            return 1;
        }
        for (String workload : workloads) {
            table(out, workload);
        }
        targets(out);
        renames(out);
        memcachedOperations(out);
        return 0;
    }

    private List<String> refusals() {
        List<String> refusals = new ArrayList<>();
        for (Config c : configs) {
            for (String workload : workloads) {
                List<RoundResult> all = everyRound(c, workload);
                long errors = sum(all, r -> r.errors);
                long non2xx = sum(all, r -> r.non2xx);
                long lost = sum(all, r -> r.lost);
                if (!c.reference && errors + non2xx + lost > 0) {
                    String first = all.stream().map(r -> r.firstProblem).filter(p -> p != null).findFirst().orElse("");
                    refusals.add(String.format("%s, %s workload: %d failed requests, %d non-2xx, %d lost sessions"
                            + " (first: %s)", c.label, workload, errors, non2xx, lost, first));
                }
            }
        }
        return refusals;
    }

    private void table(PrintStream out, String workload) {
        RoundResult base = median(Config.BASELINE, workload);
        out.printf("### %s workload (medians of %d rounds; ×: ratio to StandardManager)%n%n", workload,
                rounds.get(key(configs.get(0), workload)).size());
        out.println("| configuration | req/s | × | p50 ms | × | p99 ms | × | errors / non-2xx / lost |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---|");
        for (Config c : configs) {
            RoundResult m = median(c.key, workload);
            List<RoundResult> all = rounds.get(key(c, workload));
            out.printf("| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %d / %d / %d |%n", c.label,
                    m.requestsPerSecond, m.requestsPerSecond / base.requestsPerSecond,
                    m.p50Millis, m.p50Millis / base.p50Millis, m.p99Millis, m.p99Millis / base.p99Millis,
                    sum(all, r -> r.errors), sum(all, r -> r.non2xx), sum(all, r -> r.lost));
        }
        out.println();
    }

    /** Our configurations against the targets, and p99 against msm 2.3.2 in the same mode. */
    private void targets(PrintStream out) {
        out.println("Targets (throughput ratio to StandardManager; p99 below msm 2.3.2 in the same mode):");
        for (Config c : configs) {
            if (c.reference || c.isBaseline()) {
                continue;
            }
            String mode = c.key.substring(c.key.indexOf('-') + 1);
            for (String workload : workloads) {
                RoundResult m = median(c.key, workload);
                double ratio = m.requestsPerSecond / median(Config.BASELINE, workload).requestsPerSecond;
                Double target = TARGETS.get(mode + "/" + workload);
                StringBuilder line = new StringBuilder(String.format("  %-28s %-5s %.2f×", c.label, workload, ratio));
                if (target != null) {
                    line.append(String.format(" (target ≥ %.2f: %s)", target, ratio >= target ? "met" : "MISSED"));
                }
                if (rounds.containsKey(key("old-" + mode, workload))) {
                    double old = median("old-" + mode, workload).p99Millis;
                    line.append(String.format("  p99 %.2f ms vs msm 2.3.2 %.2f ms: %s", m.p99Millis, old,
                            m.p99Millis < old ? "met" : "MISSED"));
                }
                out.println(line);
            }
        }
        out.println();
    }

    /** Sessions that moved during the run: no failure for a user, whose browser keeps the new cookie. */
    private void renames(PrintStream out) {
        boolean any = false;
        for (Config c : configs) {
            for (String workload : workloads) {
                List<RoundResult> all = everyRound(c, workload);
                long renamed = sum(all, r -> r.renamed);
                if (renamed > 0) {
                    any = true;
                    out.printf("Renamed sessions (moved to another node, cookie followed): %s, %s workload: %d%n",
                            c.label, workload, renamed);
                }
            }
        }
        if (any) {
            out.println();
        }
    }

    /** Per request, what our engine did: the memcached round trips behind each figure. */
    private void memcachedOperations(PrintStream out) {
        out.println("Engine counters per request (ours; io.msm.core.Statistics, measured rounds):");
        for (Config c : configs) {
            for (String workload : workloads) {
                Map<Statistics.Counter, Long> sum = counters.get(key(c, workload));
                if (sum == null || sum.values().stream().allMatch(v -> v == 0)) {
                    continue;
                }
                long requests = sum(rounds.get(key(c, workload)), r -> r.requests);
                StringBuilder line = new StringBuilder(String.format("  %-28s %-5s", c.label, workload));
                sum.forEach((k, v) -> {
                    if (v != 0) {
                        line.append(String.format(" %s=%.3f", k, (double) v / requests));
                    }
                });
                out.println(line);
            }
        }
        out.println();
    }

    /** @return the warm-up and the measured rounds: a failure in either refuses the run */
    private List<RoundResult> everyRound(Config c, String workload) {
        List<RoundResult> all = new ArrayList<>(warmUps.getOrDefault(key(c, workload), List.of()));
        all.addAll(rounds.getOrDefault(key(c, workload), List.of()));
        return all;
    }

    private RoundResult median(String configKey, String workload) {
        List<RoundResult> all = rounds.get(configKey + "/" + workload);
        return new RoundResult(median(all, r -> r.requestsPerSecond), median(all, r -> r.p50Millis),
                median(all, r -> r.p99Millis), sum(all, r -> r.requests), sum(all, r -> r.errors),
                sum(all, r -> r.non2xx), sum(all, r -> r.lost), sum(all, r -> r.renamed), null);
    }

    private static double median(List<RoundResult> all, ToDoubleFunction<RoundResult> f) {
        double[] values = all.stream().mapToDouble(f).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static long sum(List<RoundResult> all, ToLongFunction<RoundResult> f) {
        return all.stream().mapToLong(f).sum();
    }

    private static String key(Config c, String workload) {
        return key(c.key, workload);
    }

    private static String key(String configKey, String workload) {
        return configKey + "/" + workload;
    }
}

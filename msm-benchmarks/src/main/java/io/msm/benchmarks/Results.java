package io.msm.benchmarks;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

import io.msm.core.Statistics;

/** Collects the rounds and prints the tables: medians of the rounds, ratios to StandardManager. */
final class Results {
    /** Issue 16's targets: throughput ratios to StandardManager, by configuration and workload. */
    private static final Map<String, Double> TARGETS = Map.of(
            "msm-sticky-async/read", 0.97, "msm-sticky-async/write", 0.90,
            "msm-sticky-sync/read", 0.65, "msm-sticky-sync/write", 0.50,
            "msm-nonsticky-none/read", 0.40, "msm-nonsticky-none/write", 0.25,
            "msm-nonsticky-all/read", 0.25, "msm-nonsticky-all/write", 0.20,
            "kryo-nonsticky-none/read", 0.50, "kryo-nonsticky-none/write", 0.35);

    private final List<Config> configs;
    private final List<String> workloads;
    private final Map<String, List<RoundResult>> rounds = new LinkedHashMap<>();
    private final Map<String, List<RoundResult>> warmUps = new LinkedHashMap<>();
    private final Map<String, Map<Statistics.Counter, Long>> counters = new LinkedHashMap<>();
    private final Map<String, List<OpenLoopResult>> openLoops = new LinkedHashMap<>();

    Results(List<Config> configs, List<String> workloads) {
        this.configs = configs;
        this.workloads = workloads;
    }

    void addWarmUp(Config c, String workload, RoundResult r) {
        warmUps.computeIfAbsent(key(c, workload), k -> new ArrayList<>()).add(r);
    }

    void addOpenLoop(Config c, String workload, OpenLoopResult r) {
        openLoops.computeIfAbsent(key(c, workload), k -> new ArrayList<>()).add(r);
    }

    /** @return StandardManager's median closed-loop throughput of the workload, for the open loop's rate */
    double baselineRate(String workload) {
        return median(Config.BASELINE, workload).requestsPerSecond;
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
        openLoop(out);
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
        for (Config c : configs) {
            for (String workload : workloads) {
                for (OpenLoopResult r : openLoops.getOrDefault(key(c, workload), List.of())) {
                    if (!c.reference && r.problems() > 0) {
                        refusals.add(String.format("%s, %s workload, open loop: %s (first: %s)", c.label, workload, r,
                                r.tally.firstProblem));
                    }
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
                Double target = TARGETS.get(c.key + "/" + workload);
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

    /**
     * The open-loop rounds: each configuration at the same fixed rate, latencies from when each
     * request was due; medians over the rounds of each percentile, and p99 as a ratio to StandardManager's.
     */
    private void openLoop(PrintStream out) {
        if (openLoops.isEmpty()) {
            return;
        }
        for (String workload : workloads) {
            List<OpenLoopResult> base = openLoops.get(key(Config.BASELINE, workload));
            if (base == null) {
                continue;
            }
            double baseP99 = Medians.of(base, r -> r.p99Millis);
            out.printf("### open loop, %s workload, %.0f req/s (medians of %d rounds; ×: p99 ratio to StandardManager)%n%n",
                    workload, base.get(0).intendedPerSecond, base.size());
            out.println("| configuration | done req/s | p50 ms | p99 ms | × | p99.9 ms | max ms | errors / non-2xx / lost |");
            out.println("|---|---:|---:|---:|---:|---:|---:|---|");
            for (Config c : configs) {
                List<OpenLoopResult> rs = openLoops.get(key(c, workload));
                if (rs == null) {
                    continue;
                }
                double p99 = Medians.of(rs, r -> r.p99Millis);
                long errors = rs.stream().mapToLong(r -> r.tally.errors).sum();
                long non2xx = rs.stream().mapToLong(r -> r.tally.non2xx).sum();
                long lost = rs.stream().mapToLong(r -> r.tally.lost).sum();
                out.printf("| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %d / %d / %d |%n", c.label,
                        Medians.of(rs, r -> r.achievedPerSecond), Medians.of(rs, r -> r.p50Millis), p99, p99 / baseP99,
                        Medians.of(rs, r -> r.p999Millis), Medians.of(rs, r -> r.maxMillis), errors, non2xx, lost);
            }
            out.println();
            List<OpenLoopResult> stickyAsync = openLoops.get(key("msm-sticky-async", workload));
            if (stickyAsync != null) {
                double ratio = Medians.of(stickyAsync, r -> r.p99Millis) / baseP99;
                out.printf("Target: msm sticky async p99 ≤ 1.5× StandardManager's: %.2f× (%s)%n%n", ratio,
                        ratio <= 1.5 ? "met" : "MISSED");
            }
        }
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
        return new RoundResult(Medians.of(all, r -> r.requestsPerSecond), Medians.of(all, r -> r.p50Millis),
                Medians.of(all, r -> r.p99Millis), sum(all, r -> r.requests), sum(all, r -> r.errors),
                sum(all, r -> r.non2xx), sum(all, r -> r.lost), sum(all, r -> r.renamed), null);
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

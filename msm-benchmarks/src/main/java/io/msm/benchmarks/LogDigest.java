package io.msm.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A Tomcat console's WARNING and SEVERE lines in a few hundred characters: each kind of line (its
 * logger and the start of its message, numbers blanked) with its count and its first time, most
 * frequent first. A failed run says in its message what the servers saw, where CI keeps nothing else.
 */
final class LogDigest {
    private static final int KINDS = 6;
    private static final int MESSAGE_CHARS = 150;

    private LogDigest() {
    }

    static String of(Path console) {
        List<String> lines;
        try {
            lines = Files.readAllLines(console, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return "(its console could not be read: " + e + ")";
        }
        Map<String, long[]> counts = new LinkedHashMap<>();
        Map<String, String> firstAt = new LinkedHashMap<>();
        for (String line : lines) {
            int level = line.indexOf(" WARNING [");
            if (level < 0) {
                level = line.indexOf(" SEVERE [");
            }
            if (level < 0) {
                continue;
            }
            int thread = line.indexOf("] ", level);
            if (thread < 0) {
                continue;
            }
            String rest = line.substring(thread + 2);
            String kind = rest.replaceAll("…[0-9A-Fa-f]+", "…").replaceAll("[0-9]+", "#");
            kind = kind.substring(0, Math.min(kind.length(), MESSAGE_CHARS));
            counts.computeIfAbsent(kind, k -> new long[1])[0]++;
            firstAt.putIfAbsent(kind, line.substring(Math.min(12, level), level).trim()); // the time, not the date
        }
        if (counts.isEmpty()) {
            return "no WARNING or SEVERE line";
        }
        List<Map.Entry<String, long[]>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        return sorted.stream().limit(KINDS)
                .map(e -> e.getValue()[0] + "x from " + firstAt.get(e.getKey()) + ": " + e.getKey())
                .collect(Collectors.joining(" | ", "[", sorted.size() > KINDS ? " | and "
                        + (sorted.size() - KINDS) + " other kinds]" : "]"));
    }
}

package io.msm.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Every bad attribute of one {@code <Manager>} element, reported together. */
public final class ConfigurationException extends Exception {
    private static final long serialVersionUID = 1L;
    private final List<String> problems;

    ConfigurationException(List<String> problems) {
        super(message(problems));
        this.problems = Collections.unmodifiableList(new ArrayList<>(problems));
    }

    public List<String> problems() {
        return problems;
    }

    private static String message(List<String> problems) {
        StringBuilder sb = new StringBuilder("msm configuration has ").append(problems.size())
                .append(problems.size() == 1 ? " problem:" : " problems:");
        for (String p : problems) {
            sb.append("\n  - ").append(p);
        }
        return sb.toString();
    }
}

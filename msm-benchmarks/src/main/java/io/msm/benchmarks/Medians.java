package io.msm.benchmarks;

import java.util.Collection;
import java.util.function.ToDoubleFunction;

/** The median of one figure over the rounds of a run: the middle one, or the mean of the two middle ones. */
final class Medians {
    private Medians() {
    }

    static <T> double of(Collection<T> rounds, ToDoubleFunction<T> figure) {
        double[] values = rounds.stream().mapToDouble(figure).sorted().toArray();
        int n = values.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}

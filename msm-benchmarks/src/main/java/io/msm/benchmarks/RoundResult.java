package io.msm.benchmarks;

/** What one configuration did in one round of one workload. */
final class RoundResult {
    final double requestsPerSecond;
    final double p50Millis;
    final double p99Millis;
    final long requests;
    /** Connection failures and time-outs. */
    final long errors;
    final long non2xx;
    /** Requests whose session was missing or came back under another id. */
    final long lost;
    /** Requests answered under a renamed id (the session moved), which the user then kept. */
    final long renamed;
    /** The first problem seen, for the message; null when none. */
    final String firstProblem;

    RoundResult(double requestsPerSecond, double p50Millis, double p99Millis, long requests, long errors, long non2xx,
            long lost, long renamed, String firstProblem) {
        this.requestsPerSecond = requestsPerSecond;
        this.p50Millis = p50Millis;
        this.p99Millis = p99Millis;
        this.requests = requests;
        this.errors = errors;
        this.non2xx = non2xx;
        this.lost = lost;
        this.renamed = renamed;
        this.firstProblem = firstProblem;
    }

    long problems() {
        return errors + non2xx + lost;
    }

    @Override
    public String toString() {
        return String.format("%8.0f req/s  p50 %6.2f ms  p99 %7.2f ms  %7d requests  errors %d  non-2xx %d  lost %d  renamed %d",
                requestsPerSecond, p50Millis, p99Millis, requests, errors, non2xx, lost, renamed);
    }
}

package io.msm.benchmarks;

/**
 * What one load thread saw besides latencies: failed requests, non-2xx answers, sessions lost, and
 * sessions renamed (moved to another node), which it follows as a browser follows a new cookie.
 */
final class Tally {
    long errors;
    long non2xx;
    long lost;
    long renamed;
    String firstProblem;

    /** Checks an answer to a request sent with the cookie of user {@code user}, session {@code id}. */
    void check(HttpConnection.Response r, CookieJar cookies, int user, String id) {
        if (r.status == 404) {
            lost++;
            problem("session " + id + " not found (404)");
        } else if (r.status < 200 || r.status > 299) {
            non2xx++;
            problem("HTTP " + r.status);
        } else if (r.newSessionId != null && r.newSessionId.equals(r.body)
                && cookies.followRename(user, id, r.newSessionId)) {
            renamed++;
        } else if (!r.body.equals(id) || r.newSessionId != null) {
            lost++;
            problem("session " + id + " answered as " + r.body
                    + (r.newSessionId == null ? "" : " with a new cookie " + r.newSessionId));
        }
    }

    void failed(Exception e) {
        errors++;
        problem(e.toString());
    }

    void add(Tally other) {
        errors += other.errors;
        non2xx += other.non2xx;
        lost += other.lost;
        renamed += other.renamed;
        if (firstProblem == null) {
            firstProblem = other.firstProblem;
        }
    }

    private void problem(String what) {
        if (firstProblem == null) {
            firstProblem = what;
        }
    }
}

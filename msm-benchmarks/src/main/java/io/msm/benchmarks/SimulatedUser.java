package io.msm.benchmarks;

/**
 * One user of a fixed-rate run: a browser's cookie for one webapp, and the counter value the user
 * last saw, so that a lost increment is noticed at the next visit (a write must answer one more, a
 * read the same). One worker thread owns a user, so its requests never overlap.
 */
final class SimulatedUser {
    final int number;
    final String path;
    final boolean sticky;
    String id;
    int counter;
    long visits;

    SimulatedUser(int number, String path, boolean sticky) {
        this.number = number;
        this.path = path;
        this.sticky = sticky;
    }

    /** @return the request of the next visit: writes and reads in turn */
    String nextAction() {
        return id == null ? "/b/create?n=" + number : visits % 2 == 0 ? "/b/write" : "/b/read";
    }

    /**
     * Checks an answer to {@code action}, sent with this user's cookie, and counts what went wrong.
     *
     * @return what went wrong, or null
     */
    String check(String action, HttpConnection.Response r, Timeline.Bucket b) {
        visits++;
        if (action.startsWith("/b/create")) {
            if (r.status == 200) {
                id = r.body.trim();
                counter = 0;
                return null;
            }
            b.non2xx.increment();
            return "login answered " + r.status;
        }
        String sent = id;
        if (r.status == 404) {
            b.sessionsLost.increment(); // logged out: the user logs in again at the next visit
            id = null;
            return "session " + sent + " lost at " + action;
        }
        if (r.status < 200 || r.status > 299) {
            b.non2xx.increment();
            return action + " answered " + r.status;
        }
        String problem = null;
        if (!r.body.equals(id)) {
            if (CookieJar.sameSession(id, r.body)) {
                b.renamed.increment(); // moved to another node or Tomcat: the browser takes the new cookie
            } else {
                b.sessionsLost.increment();
                counter = 0;
                problem = "session " + sent + " answered as " + r.body;
            }
            id = r.body;
        }
        String seen = r.counter;
        if (seen == null) {
            return problem;
        }
        int expected = action.equals("/b/write") ? counter + 1 : counter;
        int value = Integer.parseInt(seen);
        if (value < expected) {
            b.incrementsLost.add(expected - value);
            problem = "session " + sent + " answered " + action + " with counter " + value + ", not " + expected;
        } else if (value > expected) {
            b.incrementsRepeated.add(value - expected); // a request that failed for the user took effect after all
        }
        counter = value;
        return problem;
    }
}

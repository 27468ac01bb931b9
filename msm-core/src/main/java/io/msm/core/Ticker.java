package io.msm.core;

/**
 * Monotonic time and waiting, passed in like the wall {@link java.time.Clock}: a test advances
 * time instead of sleeping, and a wait with a deadline is tested in milliseconds.
 */
interface Ticker {
    Ticker SYSTEM = new Ticker() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleep(long millis) throws InterruptedException {
            Thread.sleep(millis);
        }
    };

    long nanoTime();

    void sleep(long millis) throws InterruptedException;
}

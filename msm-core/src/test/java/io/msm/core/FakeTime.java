package io.msm.core;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wall clock and monotonic ticker in one, moved only by the test: {@link #advance} and every
 * {@link #sleep} move both, so a wait with a deadline ends at once in real time.
 */
final class FakeTime extends Clock implements Ticker {
    private final AtomicLong nanos;
    private final long startMillis;
    private final AtomicLong slept;
    /** A step of the wall clock alone (NTP), which monotonic time does not see. */
    private final AtomicLong wallStep = new AtomicLong();

    FakeTime(long startMillis) {
        this(startMillis, new AtomicLong(), new AtomicLong());
    }

    private FakeTime(long startMillis, AtomicLong nanos, AtomicLong slept) {
        this.startMillis = startMillis;
        this.nanos = nanos;
        this.slept = slept;
    }

    /** Another host's clock: the same passing time, its wall clock {@code millis} ahead (negative: behind). */
    FakeTime aheadBy(long millis) {
        return new FakeTime(startMillis + wallStep.get() + millis, nanos, slept);
    }

    void advance(long millis) {
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    /** Steps the wall clock by {@code millis} (negative: back), as NTP does; {@link #nanoTime} goes on. */
    void stepWallClock(long millis) {
        wallStep.addAndGet(millis);
    }

    /** @return milliseconds the code under test slept, in fake time */
    long sleptMillis() {
        return slept.get();
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public void sleep(long millis) {
        slept.addAndGet(millis);
        advance(millis);
    }

    @Override
    public long millis() {
        return startMillis + wallStep.get() + TimeUnit.NANOSECONDS.toMillis(nanos.get());
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}

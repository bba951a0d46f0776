package io.github.outbox4j.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} that stands still until the test moves it, so retry and lease timing is tested without
 * sleeping.
 *
 * <p>Thread-safe: the engine reads it from its own threads while the test moves it. Clocks made by
 * {@link #withZone(ZoneId)} share this clock's time, so moving one moves all of them.
 */
public final class MutableClock extends Clock {
    private final AtomicReference<Instant> now;
    private final ZoneId zone;

    private MutableClock(AtomicReference<Instant> now, ZoneId zone) {
        this.now = now;
        this.zone = zone;
    }

    /** A clock in UTC showing {@code start} until moved. */
    public static MutableClock at(Instant start) {
        return new MutableClock(new AtomicReference<>(Objects.requireNonNull(start, "start")), ZoneOffset.UTC);
    }

    /** A clock in UTC showing {@code start} (ISO-8601, e.g. {@code 2030-01-01T00:00:00Z}) until moved. */
    public static MutableClock at(String start) {
        return at(Instant.parse(start));
    }

    /** Moves the time by {@code amount} (which may be negative) and returns the new time. */
    public Instant advance(Duration amount) {
        Objects.requireNonNull(amount, "amount");
        return now.updateAndGet(instant -> instant.plus(amount));
    }

    /** Sets the time. */
    public void set(Instant instant) {
        now.set(Objects.requireNonNull(instant, "instant"));
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    @Override
    public MutableClock withZone(ZoneId zone) {
        return new MutableClock(now, Objects.requireNonNull(zone, "zone"));
    }

    @Override
    public String toString() {
        return "MutableClock[" + now.get() + ", " + zone + "]";
    }
}

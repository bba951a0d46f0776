package io.github.outbox4j.retry;

import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.OutboxSerializationException;
import io.github.outbox4j.PermanentFailureException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * When a failed message is tried again, used alike for sending (published side) and handling (received
 * side). With the defaults: attempts 1-3 at once, attempt 4 four minutes later, then one a minute until
 * attempt 50 (at 50 minutes), then the row becomes {@code FAILED} and an alert is raised.
 *
 * <p>Immutable and thread-safe. The builder validates every field and names its property.
 */
public final class RetryPolicy {
    public static final int DEFAULT_IMMEDIATE_ATTEMPTS = 3;
    public static final Duration DEFAULT_IMMEDIATE_BACKOFF = Duration.ofMillis(100);
    public static final Duration DEFAULT_FIRST_DELAY = Duration.ofMinutes(4);
    public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);
    public static final double DEFAULT_MULTIPLIER = 1.0;
    public static final Duration DEFAULT_MAX_INTERVAL = Duration.ofHours(1);
    public static final double DEFAULT_JITTER = 0.0;
    public static final int DEFAULT_MAX_ATTEMPTS = 50;

    /** By default everything is retried but a payload or body that cannot be (de)serialized: that never heals. */
    public static final Predicate<Throwable> DEFAULT_RETRY_ON =
            error -> !(error instanceof OutboxSerializationException);

    private static final RetryPolicy DEFAULTS = builder().build();

    private final int immediateAttempts;
    private final Duration immediateBackoff;
    private final Duration firstDelay;
    private final Duration interval;
    private final double multiplier;
    private final Duration maxInterval;
    private final double jitter;
    private final int maxAttempts;
    private final Predicate<Throwable> retryOn;

    private RetryPolicy(Builder builder) {
        this.immediateAttempts = Math.min(builder.immediateAttempts, builder.maxAttempts);
        this.immediateBackoff = builder.immediateBackoff;
        this.firstDelay = builder.firstDelay;
        this.interval = builder.interval;
        this.multiplier = builder.multiplier;
        this.maxInterval = builder.maxInterval;
        this.jitter = builder.jitter;
        this.maxAttempts = builder.maxAttempts;
        this.retryOn = builder.retryOn;
    }

    /** The policy of DESIGN defaults: 3 immediate attempts, 4 minutes, then every minute, 50 attempts. */
    public static RetryPolicy defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Attempts made at once, in process (never more than {@link #maxAttempts()}). */
    public int immediateAttempts() {
        return immediateAttempts;
    }

    /** Pause between two immediate attempts. */
    public Duration immediateBackoff() {
        return immediateBackoff;
    }

    public Duration firstDelay() {
        return firstDelay;
    }

    public Duration interval() {
        return interval;
    }

    public double multiplier() {
        return multiplier;
    }

    public Duration maxInterval() {
        return maxInterval;
    }

    public double jitter() {
        return jitter;
    }

    public int maxAttempts() {
        return maxAttempts;
    }

    /**
     * Whether a failure may heal on a later attempt; one that may not makes the row FAILED at once. A {@link
     * PermanentFailureException} never does, whatever {@link Builder#retryOn} says.
     */
    public boolean isRetryable(Throwable error) {
        return !(error instanceof PermanentFailureException) && retryOn.test(error);
    }

    /** Whether no attempt is left after {@code attemptsMade}. */
    public boolean isExhausted(int attemptsMade) {
        return attemptsMade >= maxAttempts;
    }

    /**
     * How long to wait after {@code attemptsMade} attempts have failed, before the next one. Up to and
     * including the immediate attempts this is the first delay; after that the interval, multiplied by
     * {@link #multiplier()} for each further attempt, capped at {@link #maxInterval()}, spread by {@link
     * #jitter()}.
     */
    public Duration delayAfter(int attemptsMade) {
        if (attemptsMade <= immediateAttempts) {
            return jittered(firstDelay);
        }
        int laterAttempts = attemptsMade - immediateAttempts - 1;
        double millis = interval.toMillis() * Math.pow(multiplier, laterAttempts);
        long capped = (long) Math.min(millis, (double) Math.max(maxInterval.toMillis(), interval.toMillis()));
        return jittered(Duration.ofMillis(capped));
    }

    private Duration jittered(Duration delay) {
        if (jitter == 0.0 || delay.isZero()) {
            return delay;
        }
        double factor = 1.0 + ThreadLocalRandom.current().nextDouble(-jitter, jitter);
        return Duration.ofMillis(Math.round(delay.toMillis() * factor));
    }

    @Override
    public String toString() {
        return "RetryPolicy[immediateAttempts=" + immediateAttempts + ", immediateBackoff=" + immediateBackoff
                + ", firstDelay=" + firstDelay + ", interval=" + interval + ", multiplier=" + multiplier
                + ", maxInterval=" + maxInterval + ", jitter=" + jitter + ", maxAttempts=" + maxAttempts + "]";
    }

    /** Builds a {@link RetryPolicy}; starts from the defaults. Not thread-safe. */
    public static final class Builder {
        private int immediateAttempts = DEFAULT_IMMEDIATE_ATTEMPTS;
        private Duration immediateBackoff = DEFAULT_IMMEDIATE_BACKOFF;
        private Duration firstDelay = DEFAULT_FIRST_DELAY;
        private Duration interval = DEFAULT_INTERVAL;
        private double multiplier = DEFAULT_MULTIPLIER;
        private Duration maxInterval = DEFAULT_MAX_INTERVAL;
        private double jitter = DEFAULT_JITTER;
        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
        private Predicate<Throwable> retryOn = DEFAULT_RETRY_ON;

        private Builder() {}

        public Builder immediateAttempts(int immediateAttempts) {
            this.immediateAttempts = atLeastOne("outbox.retry.immediate-attempts", immediateAttempts);
            return this;
        }

        public Builder immediateBackoff(Duration immediateBackoff) {
            this.immediateBackoff = notNegative("outbox.retry.immediate-backoff", immediateBackoff);
            return this;
        }

        public Builder firstDelay(Duration firstDelay) {
            this.firstDelay = notNegative("outbox.retry.first-delay", firstDelay);
            return this;
        }

        public Builder interval(Duration interval) {
            this.interval = notNegative("outbox.retry.interval", interval);
            return this;
        }

        /** Growth of the interval per later attempt; 1.0 keeps it constant. */
        public Builder multiplier(double multiplier) {
            if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
                throw new OutboxConfigurationException(
                        "outbox.retry.multiplier", "must be a number of at least 1.0, was " + multiplier);
            }
            this.multiplier = multiplier;
            return this;
        }

        public Builder maxInterval(Duration maxInterval) {
            this.maxInterval = notNegative("outbox.retry.max-interval", maxInterval);
            return this;
        }

        /** Random spread of each delay, as a fraction: 0.1 means plus or minus 10 %. */
        public Builder jitter(double jitter) {
            if (!(jitter >= 0.0 && jitter < 1.0)) {
                throw new OutboxConfigurationException(
                        "outbox.retry.jitter", "must be at least 0.0 and below 1.0, was " + jitter);
            }
            this.jitter = jitter;
            return this;
        }

        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = atLeastOne("outbox.retry.max-attempts", maxAttempts);
            return this;
        }

        /**
         * Which failures are retried; the others make the row FAILED at once. A {@link PermanentFailureException}
         * is never retried, whatever this predicate says.
         */
        public Builder retryOn(Predicate<Throwable> retryOn) {
            this.retryOn = Objects.requireNonNull(retryOn, "retryOn");
            return this;
        }

        public RetryPolicy build() {
            return new RetryPolicy(this);
        }

        private static int atLeastOne(String property, int value) {
            if (value < 1) {
                throw new OutboxConfigurationException(property, "must be at least 1, was " + value);
            }
            return value;
        }

        private static Duration notNegative(String property, Duration value) {
            if (value == null) {
                throw new OutboxConfigurationException(property, "must be set");
            }
            if (value.isNegative()) {
                throw new OutboxConfigurationException(property, "must not be negative, was " + value);
            }
            return value;
        }
    }
}

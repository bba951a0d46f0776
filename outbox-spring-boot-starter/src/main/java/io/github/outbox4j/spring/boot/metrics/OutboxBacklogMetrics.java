package io.github.outbox4j.spring.boot.metrics;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.spi.OutboxStorage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gauges of the backlog, per table ({@code kind} tag {@code published} or {@code received}): {@code
 * outbox.messages.pending}, the rows waiting for an attempt (PENDING and RETRYING), and {@code
 * outbox.messages.oldest.pending.age} in seconds, the age of the oldest of them (0 when none). Each read runs one
 * indexed query; a failed query reads as NaN and is logged at debug level.
 */
public final class OutboxBacklogMetrics implements MeterBinder {
    private static final Logger log = LoggerFactory.getLogger(OutboxBacklogMetrics.class);

    private final Supplier<OutboxStorage> storage;
    private final Clock clock;

    public OutboxBacklogMetrics(Supplier<OutboxStorage> storage, Clock clock) {
        this.storage = Objects.requireNonNull(storage, "storage");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (MessageKind kind : MessageKind.values()) {
            String tag = kind.name().toLowerCase(Locale.ROOT);
            Gauge.builder("outbox.messages.pending", this, metrics -> metrics.pending(kind))
                    .description("Rows waiting for an attempt (PENDING and RETRYING)")
                    .tag("kind", tag)
                    .register(registry);
            Gauge.builder("outbox.messages.oldest.pending.age", this, metrics -> metrics.oldestAge(kind))
                    .description("Age of the oldest row waiting for an attempt")
                    .baseUnit("seconds")
                    .tag("kind", tag)
                    .register(registry);
        }
    }

    double pending(MessageKind kind) {
        try {
            return storage.get().countPending(kind);
        } catch (RuntimeException e) {
            log.debug("Counting pending {} rows failed", kind, e);
            return Double.NaN;
        }
    }

    double oldestAge(MessageKind kind) {
        try {
            return storage.get()
                    .oldestPending(kind)
                    .map(added -> Math.max(
                                    0,
                                    Duration.between(added, Instant.now(clock)).toMillis())
                            / 1000.0)
                    .orElse(0.0);
        } catch (RuntimeException e) {
            log.debug("Reading the oldest pending {} row failed", kind, e);
            return Double.NaN;
        }
    }
}

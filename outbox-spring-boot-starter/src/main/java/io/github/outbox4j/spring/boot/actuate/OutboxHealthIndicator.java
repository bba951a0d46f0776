package io.github.outbox4j.spring.boot.actuate;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.spi.OutboxStorage;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * Health of the outbox: UP when the storage answers, with, per table, the rows waiting for an attempt ({@code
 * pending}: PENDING and RETRYING), the {@code failed} rows waiting for a person, and the age of the oldest waiting
 * row; DOWN with the error when the storage query fails. A growing age tells that messages are not getting through
 * (broker down, consumer failing) well before they become FAILED. The counts read indexes that hold only those
 * rows (on MySQL and MariaDB, which have no partial indexes, the FAILED count reads the table), not the SUCCEEDED
 * rows kept for the retention, so a check costs little however many of those there are.
 */
public class OutboxHealthIndicator extends AbstractHealthIndicator {
    private final Supplier<OutboxStorage> storage;
    private final Clock clock;

    public OutboxHealthIndicator(Supplier<OutboxStorage> storage, Clock clock) {
        super("Outbox health check failed");
        this.storage = Objects.requireNonNull(storage, "storage");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        OutboxStorage current = storage.get();
        builder.up()
                .withDetail("published", details(current, MessageKind.PUBLISHED))
                .withDetail("received", details(current, MessageKind.RECEIVED));
    }

    private Map<String, Object> details(OutboxStorage storage, MessageKind kind) {
        Optional<Duration> age = storage.oldestPending(kind)
                .map(added -> Duration.between(added, clock.instant()))
                .map(duration -> duration.isNegative() ? Duration.ZERO : duration);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("pending", storage.countPending(kind));
        details.put("failed", storage.countFailed(kind));
        details.put("oldestPendingAge", age.map(Duration::toString).orElse(null));
        return details;
    }
}

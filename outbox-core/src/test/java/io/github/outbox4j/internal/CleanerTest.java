package io.github.outbox4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.testing.InMemoryOutboxStorage;
import io.github.outbox4j.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CleanerTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

    private final MutableClock clock = new MutableClock(T0);
    private final InMemoryOutboxStorage storage = new InMemoryOutboxStorage();

    @Test
    void deletesExpiredFinalRowsOfBothTablesInBatches() {
        for (int i = 0; i < 25; i++) {
            storage.put(MessageKind.PUBLISHED, row("s-" + i, null, MessageStatus.SUCCEEDED, T0.minusSeconds(1)));
        }
        storage.put(MessageKind.PUBLISHED, row("f-1", null, MessageStatus.FAILED, T0.minusSeconds(1)));
        storage.put(MessageKind.RECEIVED, row("r-1", "inventory", MessageStatus.SUCCEEDED, T0.minusSeconds(1)));
        storage.put(MessageKind.PUBLISHED, row("kept-now", null, MessageStatus.SUCCEEDED, T0));
        storage.put(MessageKind.PUBLISHED, row("kept-later", null, MessageStatus.FAILED, T0.plusSeconds(1)));
        storage.put(MessageKind.PUBLISHED, row("kept-open", null, MessageStatus.RETRYING, null));

        int deleted = new Cleaner(storage, clock, Duration.ofMinutes(5), 10).run();

        assertThat(deleted).isEqualTo(27);
        assertThat(storage.rows(MessageKind.PUBLISHED))
                .extracting(StoredMessage::id)
                .containsExactlyInAnyOrder("kept-now", "kept-later", "kept-open");
        assertThat(storage.rows(MessageKind.RECEIVED)).isEmpty();
    }

    @Test
    void oneRunDeletesAtMostItsBatchLimitPerTable() {
        int batchSize = 2;
        int rows = batchSize * Cleaner.MAX_BATCHES_PER_RUN + 3;
        for (int i = 0; i < rows; i++) {
            storage.put(MessageKind.PUBLISHED, row("s-" + i, null, MessageStatus.SUCCEEDED, T0.minusSeconds(1)));
        }
        Cleaner cleaner = new Cleaner(storage, clock, Duration.ofMinutes(5), batchSize);

        assertThat(cleaner.run()).isEqualTo(batchSize * Cleaner.MAX_BATCHES_PER_RUN);
        assertThat(cleaner.run()).as("the next run goes on").isEqualTo(3);
        assertThat(storage.rows(MessageKind.PUBLISHED)).isEmpty();
    }

    @Test
    void rowsExpireWhenTheClockPassesTheirRetention() {
        storage.put(MessageKind.PUBLISHED, row("s-1", null, MessageStatus.SUCCEEDED, T0.plus(Duration.ofHours(24))));
        Cleaner cleaner = new Cleaner(storage, clock, Duration.ofMinutes(5), 10);

        assertThat(cleaner.run()).isZero();
        clock.advance(Duration.ofHours(24).plusMillis(1));
        assertThat(cleaner.run()).isOne();
    }

    private static StoredMessage row(String id, String group, MessageStatus status, Instant expiresAt) {
        return new StoredMessage(
                id,
                group,
                "order.paid",
                null,
                Map.of(),
                "{}",
                status,
                1,
                T0.minus(Duration.ofDays(30)),
                status.isFinal() ? null : T0.plus(Duration.ofMinutes(1)),
                expiresAt,
                null,
                2);
    }
}

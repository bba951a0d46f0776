package io.github.outbox4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.TransportMessage;
import io.github.outbox4j.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PublishAttemptTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

    @Test
    void sendsTheRowStampedWithTheSendTime() {
        MutableClock clock = new MutableClock(T0.plusSeconds(5));
        InMemoryTransport transport = new InMemoryTransport();
        StoredMessage row = StoredMessage.pending(
                "id-1",
                null,
                "order.paid",
                "o-1",
                Map.of(OutboxHeaders.MESSAGE_ID, "id-1", "tenant", "eu-1"),
                "{\"orderId\":\"o-1\",\"note\":\"größe\"}",
                T0,
                T0);

        new PublishAttempt(transport, clock).run(row, 1).toCompletableFuture().join();

        TransportMessage sent = transport.sent().get(0);
        assertThat(sent.id()).isEqualTo("id-1");
        assertThat(sent.topic()).isEqualTo("order.paid");
        assertThat(sent.key()).isEqualTo("o-1");
        assertThat(sent.headers())
                .containsEntry(OutboxHeaders.MESSAGE_ID, "id-1")
                .containsEntry("tenant", "eu-1")
                .containsEntry(OutboxHeaders.SENT_TIME, "2025-03-01T10:00:05Z");
        assertThat(new String(sent.body(), StandardCharsets.UTF_8)).isEqualTo(row.payload());
        assertThat(row.headers()).doesNotContainKey(OutboxHeaders.SENT_TIME);
    }
}

package io.github.outbox4j.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxSerializationException;
import io.github.outbox4j.jackson.JacksonOutboxSerializer;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.github.outbox4j.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MessageFactoryTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Duration FIRST_DELAY = Duration.ofMinutes(4);

    private record OrderPaid(String orderId) {}

    private final MutableClock clock = new MutableClock(T0);
    private final MessageFactory factory = new MessageFactory(
            new MessageIds(clock), new JacksonOutboxSerializer(), clock, FIRST_DELAY, TraceContextPropagator.NONE);

    @Test
    void rowCarriesTheWireHeadersAndIsDueAtTheFirstDelay() {
        OutboxMessage message = OutboxMessage.builder("order.paid", new OrderPaid("o-1"))
                .key("o-1")
                .header("tenant", "eu-1")
                .callbackTopic("order.paid.done")
                .build();

        StoredMessage row = factory.toRow(message);

        assertThat(UUID.fromString(row.id()).version()).isEqualTo(7);
        assertThat(row.group()).isNull();
        assertThat(row.topic()).isEqualTo("order.paid");
        assertThat(row.key()).isEqualTo("o-1");
        assertThat(row.payload()).isEqualTo("{\"orderId\":\"o-1\"}");
        assertThat(row.status()).isEqualTo(MessageStatus.PENDING);
        assertThat(row.attempts()).isZero();
        assertThat(row.version()).isZero();
        assertThat(row.addedAt()).isEqualTo(T0);
        assertThat(row.nextAttemptAt()).isEqualTo(T0.plus(FIRST_DELAY));
        assertThat(row.headers())
                .containsEntry("tenant", "eu-1")
                .containsEntry(OutboxHeaders.MESSAGE_ID, row.id())
                .containsEntry(OutboxHeaders.MESSAGE_NAME, "order.paid")
                .containsEntry(OutboxHeaders.MESSAGE_KEY, "o-1")
                .containsEntry(OutboxHeaders.CORRELATION_ID, row.id())
                .containsEntry(OutboxHeaders.CALLBACK_NAME, "order.paid.done")
                .containsEntry(OutboxHeaders.CONTENT_TYPE, OutboxHeaders.JSON);
        assertThat(MessageFactory.isDelayed(message)).isFalse();
    }

    @Test
    void optionalHeadersAreLeftOut() {
        StoredMessage row = factory.toRow(
                OutboxMessage.builder("order.paid", new OrderPaid("o-1")).build());

        assertThat(row.headers())
                .doesNotContainKeys(OutboxHeaders.MESSAGE_KEY, OutboxHeaders.CALLBACK_NAME)
                .containsOnlyKeys(
                        OutboxHeaders.MESSAGE_ID,
                        OutboxHeaders.MESSAGE_NAME,
                        OutboxHeaders.CORRELATION_ID,
                        OutboxHeaders.CONTENT_TYPE);
    }

    @Test
    void delayedRowIsDueAfterItsDelay() {
        OutboxMessage message = OutboxMessage.builder("order.paid", new OrderPaid("o-1"))
                .delay(Duration.ofSeconds(30))
                .build();

        StoredMessage row = factory.toRow(message);

        assertThat(row.nextAttemptAt()).isEqualTo(T0.plusSeconds(30));
        assertThat(MessageFactory.isDelayed(message)).isTrue();
    }

    @Test
    void unserializablePayloadFailsBeforeARowIsMade() {
        Object selfReferencing = new Object() {
            @SuppressWarnings("unused")
            public Object getSelf() {
                return this;
            }
        };

        assertThatThrownBy(() -> factory.toRow(
                        OutboxMessage.builder("order.paid", selfReferencing).build()))
                .isInstanceOf(OutboxSerializationException.class);
    }
}

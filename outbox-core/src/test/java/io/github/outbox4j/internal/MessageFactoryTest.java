package io.github.outbox4j.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxSerializationException;
import io.github.outbox4j.PayloadTooLargeException;
import io.github.outbox4j.PermanentFailureException;
import io.github.outbox4j.jackson.JacksonOutboxSerializer;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.github.outbox4j.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MessageFactoryTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Duration FIRST_DELAY = Duration.ofMinutes(4);

    private record OrderPaid(String orderId) {}

    private final MutableClock clock = new MutableClock(T0);
    private final MessageFactory factory = factory(1024);

    private MessageFactory factory(long maxPayloadSize) {
        return new MessageFactory(
                new MessageIds(clock),
                new JacksonOutboxSerializer(),
                clock,
                FIRST_DELAY,
                TraceContextPropagator.NONE,
                maxPayloadSize);
    }

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

    @Test
    void payloadLargerThanTheLimitFailsNamingTopicSizeAndLimit() {
        // {"orderId":"…"} is 14 bytes of JSON around the id
        String id = "x".repeat(1024 - 14);
        assertThat(factory.toRow(OutboxMessage.builder("order.paid", new OrderPaid(id))
                                .build())
                        .payload())
                .hasSize(1024);

        assertThatThrownBy(() -> factory.toRow(OutboxMessage.builder("order.paid", new OrderPaid(id + "x"))
                        .build()))
                .isInstanceOfSatisfying(PayloadTooLargeException.class, e -> {
                    assertThat(e.topic()).isEqualTo("order.paid");
                    assertThat(e.size()).isEqualTo(1025);
                    assertThat(e.limit()).isEqualTo(1024);
                    assertThat(e).isInstanceOf(PermanentFailureException.class);
                })
                .hasMessageContaining("topic 'order.paid'")
                .hasMessageContaining("1025 bytes")
                .hasMessageContaining("outbox.publish.max-payload-size (1024 bytes)");
    }

    @Test
    void theLimitCountsUtf8BytesNotCharacters() {
        // "é" is 2 bytes, "€" 3, "😀" 4 (two chars)
        String text = "aé€😀\uD800";
        assertThat(MessageFactory.utf8Length(text))
                .isEqualTo(text.getBytes(StandardCharsets.UTF_8).length)
                .isEqualTo(1 + 2 + 3 + 4 + 1);

        String twoByteChars = "é".repeat(10); // 10 characters, 20 bytes; with the JSON around it 34
        assertThatThrownBy(() -> factory(33)
                        .toRow(OutboxMessage.builder("order.paid", new OrderPaid(twoByteChars))
                                .build()))
                .isInstanceOf(PayloadTooLargeException.class)
                .hasMessageContaining("34 bytes");
        assertThat(factory(34)
                        .toRow(OutboxMessage.builder("order.paid", new OrderPaid(twoByteChars))
                                .build())
                        .payload())
                .isEqualTo("{\"orderId\":\"" + twoByteChars + "\"}");
    }
}

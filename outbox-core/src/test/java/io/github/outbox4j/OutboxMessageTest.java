package io.github.outbox4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class OutboxMessageTest {
    private record OrderPaid(String orderId) {}

    private static final OrderPaid EVENT = new OrderPaid("o-1");

    @Test
    void buildsAFullMessage() {
        OutboxMessage message = OutboxMessage.builder("order.paid", EVENT)
                .key("o-1")
                .header("tenant", "eu-1")
                .headers(Map.of("source", "checkout"))
                .delay(Duration.ofSeconds(30))
                .callbackTopic("order.paid.handled")
                .build();

        assertThat(message.topic()).isEqualTo("order.paid");
        assertThat(message.payload()).isSameAs(EVENT);
        assertThat(message.key()).isEqualTo("o-1");
        assertThat(message.headers()).containsExactly(Map.entry("tenant", "eu-1"), Map.entry("source", "checkout"));
        assertThat(message.delay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(message.callbackTopic()).isEqualTo("order.paid.handled");
    }

    @Test
    void defaultsAreNoKeyNoHeadersNoDelay() {
        OutboxMessage message = OutboxMessage.builder("order.paid", EVENT).build();

        assertThat(message.key()).isNull();
        assertThat(message.headers()).isEmpty();
        assertThat(message.delay()).isZero();
        assertThat(message.callbackTopic()).isNull();
        assertThat(OutboxMessage.builder("order.paid", EVENT)
                        .delay(Duration.ZERO)
                        .build()
                        .delay())
                .isZero();
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {" ", "\t\n"})
    void blankTopicIsRejected(String topic) {
        assertThatThrownBy(() -> OutboxMessage.builder(topic, EVENT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("topic");
    }

    @Test
    void nullPayloadIsRejected() {
        assertThatThrownBy(() -> OutboxMessage.builder("order.paid", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("payload");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                OutboxHeaders.MESSAGE_ID,
                OutboxHeaders.MESSAGE_NAME,
                OutboxHeaders.CORRELATION_ID,
                "outbox-anything",
                "Outbox-Msg-Id",
                "OUTBOX-X"
            })
    void reservedHeaderNamesAreRejected(String name) {
        OutboxMessage.Builder builder = OutboxMessage.builder("order.paid", EVENT);

        assertThatThrownBy(() -> builder.header(name, "forged"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(name)
                .hasMessageContaining("reserved");
        assertThatThrownBy(() -> builder.headers(Map.of(name, "forged"))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void headerNamesThatOnlyLookAlikeAreAllowed() {
        OutboxMessage message = OutboxMessage.builder("order.paid", EVENT)
                .header("outbox", "a")
                .header("my-outbox-id", "b")
                .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                .build();

        assertThat(message.headers()).containsOnlyKeys("outbox", "my-outbox-id", "traceparent");
    }

    @Test
    void blankHeaderNameAndNullHeaderValueAreRejected() {
        OutboxMessage.Builder builder = OutboxMessage.builder("order.paid", EVENT);
        Map<String, String> withNullValue = new HashMap<>();
        withNullValue.put("tenant", null);

        assertThatThrownBy(() -> builder.header(" ", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> builder.header(null, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> builder.header("tenant", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("tenant");
        assertThatThrownBy(() -> builder.headers(withNullValue)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> builder.headers(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void negativeOrNullDelayIsRejected() {
        OutboxMessage.Builder builder = OutboxMessage.builder("order.paid", EVENT);

        assertThatThrownBy(() -> builder.delay(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("delay");
        assertThatThrownBy(() -> builder.delay(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void blankCallbackTopicIsRejectedAndNullClearsIt() {
        OutboxMessage.Builder builder = OutboxMessage.builder("order.paid", EVENT);

        assertThatThrownBy(() -> builder.callbackTopic(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThat(builder.callbackTopic("reply").callbackTopic(null).build().callbackTopic())
                .isNull();
    }

    @Test
    void builtMessageIsImmutable() {
        Map<String, String> headers = new LinkedHashMap<>(Map.of("tenant", "eu-1"));
        OutboxMessage.Builder builder =
                OutboxMessage.builder("order.paid", EVENT).headers(headers);
        OutboxMessage message = builder.build();

        headers.put("late", "x");
        builder.header("after-build", "x");

        assertThat(message.headers()).containsOnlyKeys("tenant");
        assertThatThrownBy(() -> message.headers().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
    }
}

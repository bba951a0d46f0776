package io.github.outbox4j.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.LongStringHelper;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InboundMessagesTest {
    private static final byte[] BODY = "{\"orderId\":42}".getBytes(StandardCharsets.UTF_8);

    @Test
    void outgoingPropertiesArePersistentJsonWithTheIdAndEveryHeader() {
        TransportMessage message = RabbitMqTestSupport.message("order.paid", "order-42", "{}");

        AMQP.BasicProperties properties = InboundMessages.toProperties(message);

        assertThat(properties.getDeliveryMode()).isEqualTo(2);
        assertThat(properties.getContentType()).isEqualTo("application/json");
        assertThat(properties.getMessageId()).isEqualTo(message.id());
        assertThat(properties.getHeaders()).containsAllEntriesOf(message.headers());
    }

    @Test
    void theIdComesFromTheHeaderThenTheMessageIdProperty() {
        Map<String, Object> headers = new HashMap<>();
        headers.put(OutboxHeaders.MESSAGE_ID, LongStringHelper.asLongString("from-header"));
        headers.put(OutboxHeaders.MESSAGE_KEY, LongStringHelper.asLongString("order-42"));
        headers.put("retries", 3);

        TransportMessage fromHeader =
                InboundMessages.toTransportMessage("q", "order.paid", props(headers, "from-property"), BODY);
        TransportMessage fromProperty =
                InboundMessages.toTransportMessage("q", "order.paid", props(Map.of(), "from-property"), BODY);

        assertThat(fromHeader.id()).isEqualTo("from-header");
        assertThat(fromHeader.key()).isEqualTo("order-42");
        assertThat(fromHeader.topic()).isEqualTo("order.paid");
        assertThat(fromHeader.headers())
                .containsEntry("retries", "3")
                .containsEntry("content-type", "application/json");
        assertThat(fromProperty.id()).isEqualTo("from-property");
        assertThat(fromProperty.key()).isNull();
    }

    @Test
    void anIdHeaderThatIsNotUtf8IsNotTheId() {
        Map<String, Object> headers = new HashMap<>();
        headers.put(OutboxHeaders.MESSAGE_ID, LongStringHelper.asLongString(new byte[] {'i', 'd', (byte) 0xff}));

        TransportMessage withProperty =
                InboundMessages.toTransportMessage("q", "order.paid", props(headers, "from-property"), BODY);
        TransportMessage withoutProperty =
                InboundMessages.toTransportMessage("q", "order.paid", props(headers, null), BODY);

        assertThat(withProperty.id()).isEqualTo("from-property");
        assertThat(withProperty.headers()).containsEntry(OutboxHeaders.MESSAGE_ID, "id\uFFFD");
        assertThat(withoutProperty.id()).startsWith(InboundMessages.FALLBACK_ID_PREFIX);
    }

    @Test
    void withoutAnIdAStableOneOf36CharactersIsDerivedFromQueueRoutingKeyHeadersAndBody() {
        Map<String, Object> first = new HashMap<>(Map.of("source", "legacy"));
        Map<String, Object> redelivered = new HashMap<>(Map.of("source", "legacy", "x-delivery-count", 1));

        String id = InboundMessages.toTransportMessage("q", "order.paid", props(first, null), BODY)
                .id();
        String again = InboundMessages.toTransportMessage("q", "order.paid", props(redelivered, null), BODY)
                .id();
        String otherBody = InboundMessages.toTransportMessage("q", "order.paid", props(first, null), new byte[] {1})
                .id();
        String otherHeaders = InboundMessages.toTransportMessage(
                        "q", "order.paid", props(Map.of("source", "x"), null), BODY)
                .id();

        assertThat(id).matches("rabbitmq:[A-Za-z0-9_-]{27}").hasSize(36);
        assertThat(again).isEqualTo(id);
        assertThat(otherBody).isNotEqualTo(id);
        assertThat(otherHeaders).isNotEqualTo(id);
        assertThat(InboundMessages.toTransportMessage("other", "order.paid", props(first, null), BODY)
                        .id())
                .isNotEqualTo(id);
    }

    @Test
    void aMessageIdPropertyTooLongForTheIdColumnsIsReplacedByTheStableId() {
        String longId = "x".repeat(37);

        String id = InboundMessages.toTransportMessage("q", "order.paid", props(Map.of(), longId), BODY)
                .id();

        assertThat(id).startsWith("rabbitmq:").hasSize(36);
    }

    private static AMQP.BasicProperties props(Map<String, Object> headers, String messageId) {
        return new AMQP.BasicProperties.Builder()
                .headers(headers)
                .messageId(messageId)
                .contentType("application/json")
                .build();
    }
}

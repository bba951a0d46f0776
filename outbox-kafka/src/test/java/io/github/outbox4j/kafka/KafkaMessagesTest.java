package io.github.outbox4j.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class KafkaMessagesTest {

    @Test
    void theRecordCarriesKeyBodyAndEveryHeader() {
        TransportMessage message = KafkaTestSupport.outboxMessage("order.paid", "order-1", "{\"id\":1}");

        ProducerRecord<String, byte[]> record = KafkaMessages.toRecord(message);

        assertThat(record.topic()).isEqualTo("order.paid");
        assertThat(record.partition()).isNull();
        assertThat(record.key()).isEqualTo("order-1");
        assertThat(record.value()).isEqualTo(message.body());
        assertThat(record.headers().toArray()).hasSize(message.headers().size());
        message.headers()
                .forEach((name, value) -> assertThat(
                                record.headers().lastHeader(name).value())
                        .isEqualTo(value.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void withoutAKeyTheIdIsTheRecordKeyAndComesBackAsNoKey() {
        TransportMessage message = KafkaTestSupport.outboxMessage("order.paid", null, "{}");

        ProducerRecord<String, byte[]> record = KafkaMessages.toRecord(message);
        TransportMessage received = KafkaMessages.toMessage(consumed(record, 7));

        assertThat(record.key()).isEqualTo(message.id());
        assertThat(received.id()).isEqualTo(message.id());
        assertThat(received.key()).isNull();
        assertThat(received.headers()).isEqualTo(message.headers());
    }

    @Test
    void aRecordWithoutOutboxIdIsNamedByItsPositionAndKeepsItsKey() {
        ConsumerRecord<String, byte[]> record = new ConsumerRecord<>(
                "foreign",
                2,
                41L,
                0L,
                TimestampType.CREATE_TIME,
                -1,
                -1,
                "k",
                null,
                new RecordHeaders(),
                Optional.empty());

        TransportMessage received = KafkaMessages.toMessage(record);

        assertThat(received.id()).isEqualTo("kafka:foreign:2:41");
        assertThat(received.key()).isEqualTo("k");
        assertThat(received.body()).isEmpty();
        assertThat(received.headers()).doesNotContainKey(OutboxHeaders.MESSAGE_ID);
    }

    @Test
    void anIdHeaderThatIsNotUtf8IsNotTheIdAndTheLastOfRepeatedHeadersCounts() {
        RecordHeaders headers = new RecordHeaders();
        headers.add(OutboxHeaders.MESSAGE_ID, new byte[] {'i', 'd', (byte) 0xff});
        headers.add("tenant", "eu-1".getBytes(StandardCharsets.UTF_8));
        headers.add("tenant", "eu-2".getBytes(StandardCharsets.UTF_8));
        ConsumerRecord<String, byte[]> record = new ConsumerRecord<>(
                "foreign",
                0,
                7L,
                0L,
                TimestampType.CREATE_TIME,
                -1,
                -1,
                null,
                new byte[] {'{', '}'},
                headers,
                Optional.empty());

        TransportMessage received = KafkaMessages.toMessage(record);

        assertThat(received.id())
                .as("two ids that differ only in bad bytes would read the same")
                .isEqualTo("kafka:foreign:0:7");
        assertThat(received.headers())
                .containsEntry(OutboxHeaders.MESSAGE_ID, "id\uFFFD")
                .containsEntry("tenant", "eu-2");
    }

    private static ConsumerRecord<String, byte[]> consumed(ProducerRecord<String, byte[]> record, long offset) {
        return new ConsumerRecord<>(
                record.topic(),
                0,
                offset,
                0L,
                TimestampType.CREATE_TIME,
                -1,
                -1,
                record.key(),
                record.value(),
                record.headers(),
                Optional.empty());
    }
}

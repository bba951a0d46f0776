package io.github.outbox4j.kafka;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/** How a {@link TransportMessage} maps to a Kafka record and back (DESIGN.md §6). */
final class KafkaMessages {
    private static final byte[] EMPTY = new byte[0];
    /** What reading bytes that are not UTF-8 leaves in their place. */
    private static final char UNDECODABLE = '\uFFFD';

    private KafkaMessages() {}

    /** Key: the message key, else its id, so that a message's retries land in the same partition. */
    static ProducerRecord<String, byte[]> toRecord(TransportMessage message) {
        List<Header> headers = new ArrayList<>(message.headers().size());
        message.headers()
                .forEach((name, value) -> headers.add(new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8))));
        String key = message.key() != null ? message.key() : message.id();
        return new ProducerRecord<>(message.topic(), null, key, message.body(), headers);
    }

    static List<TransportMessage> toMessages(ConsumerRecords<String, byte[]> records) {
        List<TransportMessage> messages = new ArrayList<>(records.count());
        for (ConsumerRecord<String, byte[]> record : records) {
            messages.add(toMessage(record));
        }
        return messages;
    }

    /**
     * Id: the {@code outbox-msg-id} header, else the record's position, which a redelivery repeats. Key: the
     * record key, except where it is only the id standing in for a message that had none. Header values are read
     * as UTF-8, bytes that are not UTF-8 becoming U+FFFD; an {@code outbox-msg-id} that was not UTF-8 is not used
     * as the id, since two different ones could read the same (the inbox stores such a message FAILED). A header
     * that appears more than once counts with its last value, as {@code Headers.lastHeader} reads it.
     */
    static TransportMessage toMessage(ConsumerRecord<String, byte[]> record) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header header : record.headers()) {
            if (header.value() != null) {
                headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
            }
        }
        String headerId = headers.get(OutboxHeaders.MESSAGE_ID);
        boolean fromOutbox = headerId != null && !headerId.isBlank() && headerId.indexOf(UNDECODABLE) < 0;
        String id = fromOutbox ? headerId : positionId(record);
        String key = record.key();
        if (fromOutbox && id.equals(key) && !headers.containsKey(OutboxHeaders.MESSAGE_KEY)) {
            key = null;
        }
        byte[] body = record.value() != null ? record.value() : EMPTY;
        return new TransportMessage(id, record.topic(), key, headers, body);
    }

    static String positionId(ConsumerRecord<?, ?> record) {
        return "kafka:" + record.topic() + ":" + record.partition() + ":" + record.offset();
    }
}

package io.github.outbox4j.spi;

import java.util.Map;
import java.util.Objects;

/**
 * A message as it crosses the broker: id, topic, key, headers and the UTF-8 JSON body.
 *
 * @param id the message id (also in the {@code outbox-msg-id} header)
 * @param topic the topic: a Kafka topic, or a RabbitMQ routing key
 * @param key the ordering key, or {@code null}
 * @param headers every header, the {@code outbox-*} ones included
 * @param body the payload as UTF-8 JSON
 */
public record TransportMessage(String id, String topic, String key, Map<String, String> headers, byte[] body) {

    public TransportMessage {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(topic, "topic");
        headers = Map.copyOf(headers);
        Objects.requireNonNull(body, "body");
    }
}

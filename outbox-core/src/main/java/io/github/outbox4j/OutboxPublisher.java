package io.github.outbox4j;

import java.time.Duration;
import java.util.Map;

/**
 * Publishes messages inside the caller's current local transaction: the outbox row is written with the
 * business data and the message is sent only after that transaction commits. A rollback leaves nothing.
 *
 * <p>Every method returns the new message's id. Called outside a transaction, every method throws
 * {@link OutboxTransactionRequiredException}; a payload that cannot be serialized throws
 * {@link OutboxSerializationException} before anything is written. Implementations are thread-safe.
 */
public interface OutboxPublisher {

    /** Publishes {@code payload} as JSON to {@code topic}. */
    default String publish(String topic, Object payload) {
        return publish(OutboxMessage.builder(topic, payload).build());
    }

    /** Publishes {@code payload} with application headers. */
    default String publish(String topic, Object payload, Map<String, String> headers) {
        return publish(OutboxMessage.builder(topic, payload).headers(headers).build());
    }

    /** Publishes {@code payload}, to be sent no earlier than {@code delay} after commit. */
    default String publishDelayed(String topic, Object payload, Duration delay) {
        return publish(OutboxMessage.builder(topic, payload).delay(delay).build());
    }

    /** Publishes a fully described message. */
    String publish(OutboxMessage message);
}

package io.github.outbox4j.spi;

import io.github.outbox4j.MessageStatus;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One row of {@code msg_published} or {@code msg_received} as the engine sees it.
 *
 * @param id the message id
 * @param group the consumer group (received rows), {@code null} for published rows
 * @param topic the topic
 * @param key the ordering key, or {@code null}
 * @param headers all headers stored with the message, including the {@code outbox-*} ones
 * @param payload the JSON body
 * @param status the status
 * @param attempts attempts made so far
 * @param addedAt when the row was written
 * @param nextAttemptAt when the row is next due, or {@code null} once it is final
 * @param expiresAt when a final row may be deleted, or {@code null}
 * @param lastError the last failure, or {@code null}
 * @param version the fencing token: changes on every claim and every outcome, so a worker holding an older
 *     version cannot overwrite a newer outcome
 */
public record StoredMessage(
        String id,
        String group,
        String topic,
        String key,
        Map<String, String> headers,
        String payload,
        MessageStatus status,
        int attempts,
        Instant addedAt,
        Instant nextAttemptAt,
        Instant expiresAt,
        String lastError,
        int version) {

    public StoredMessage {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(addedAt, "addedAt");
        headers = Map.copyOf(headers);
        Objects.requireNonNull(payload, "payload");
    }

    /** A new, never attempted row due at {@code nextAttemptAt}. */
    public static StoredMessage pending(
            String id,
            String group,
            String topic,
            String key,
            Map<String, String> headers,
            String payload,
            Instant addedAt,
            Instant nextAttemptAt) {
        return new StoredMessage(
                id,
                group,
                topic,
                key,
                headers,
                payload,
                MessageStatus.PENDING,
                0,
                addedAt,
                nextAttemptAt,
                null,
                null,
                0);
    }
}

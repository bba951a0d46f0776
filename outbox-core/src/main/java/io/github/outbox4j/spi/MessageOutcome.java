package io.github.outbox4j.spi;

import io.github.outbox4j.MessageStatus;
import java.time.Instant;
import java.util.Objects;

/**
 * The result of attempts on a claimed row, to be written only if the row still has {@code expectedVersion}.
 *
 * @param id the message id
 * @param group the consumer group, {@code null} for published rows
 * @param expectedVersion the version the worker claimed; the write is refused if the row has another one
 * @param status {@link MessageStatus#SUCCEEDED}, {@link MessageStatus#RETRYING} or {@link MessageStatus#FAILED}
 * @param attempts total attempts made on the row
 * @param nextAttemptAt when a {@code RETRYING} row is next due; {@code null} for final statuses
 * @param expiresAt when a final row may be deleted; {@code null} for {@code RETRYING}
 * @param lastError the failure, or {@code null} on success
 */
public record MessageOutcome(
        String id,
        String group,
        int expectedVersion,
        MessageStatus status,
        int attempts,
        Instant nextAttemptAt,
        Instant expiresAt,
        String lastError) {

    public MessageOutcome {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        if (status == MessageStatus.PENDING) {
            throw new IllegalArgumentException("an outcome cannot be PENDING");
        }
        if ((status == MessageStatus.RETRYING) != (nextAttemptAt != null)) {
            throw new IllegalArgumentException("nextAttemptAt is required for RETRYING and only for it");
        }
    }

    public static MessageOutcome succeeded(StoredMessage message, int attempts, Instant expiresAt) {
        return new MessageOutcome(
                message.id(),
                message.group(),
                message.version(),
                MessageStatus.SUCCEEDED,
                attempts,
                null,
                expiresAt,
                null);
    }

    public static MessageOutcome retrying(StoredMessage message, int attempts, Instant nextAttemptAt, String error) {
        return new MessageOutcome(
                message.id(),
                message.group(),
                message.version(),
                MessageStatus.RETRYING,
                attempts,
                nextAttemptAt,
                null,
                error);
    }

    public static MessageOutcome failed(StoredMessage message, int attempts, Instant expiresAt, String error) {
        return new MessageOutcome(
                message.id(),
                message.group(),
                message.version(),
                MessageStatus.FAILED,
                attempts,
                null,
                expiresAt,
                error);
    }
}

package io.github.outbox4j;

/** The status of a row in {@code msg_published} or {@code msg_received}. */
public enum MessageStatus {
    /** Stored, not yet attempted (or its first attempts are under way in this process). */
    PENDING,
    /** At least one attempt failed; the next one is due at the row's next attempt time. */
    RETRYING,
    /** Sent to the broker (published side) or handled (received side). Removed after its retention. */
    SUCCEEDED,
    /** Attempts exhausted or not retryable; alerted and kept for a manual requeue until its retention ends. */
    FAILED;

    /** Whether no further attempt will be made without a manual requeue. */
    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED;
    }
}

package io.github.outbox4j;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Messages that ran out of attempts (or failed in a way no retry can heal) and now wait, {@code FAILED},
 * for a person. One alert may stand for several messages of one topic: alerts are rate-limited per topic
 * and group, and the messages exhausted in between are counted into the next alert.
 *
 * @param kind whether the messages were being sent or handled
 * @param topic their topic
 * @param group the consumer group (received side), or {@code null}
 * @param count how many messages this alert stands for, at least 1
 * @param messageIds the ids of some of them (at most {@link #MAX_SAMPLE_IDS}), for a requeue
 * @param lastError the last failure
 * @param raisedAt when the alert was raised
 */
public record OutboxAlert(
        MessageKind kind,
        String topic,
        String group,
        int count,
        List<String> messageIds,
        String lastError,
        Instant raisedAt) {

    /** How many message ids an alert lists at most. */
    public static final int MAX_SAMPLE_IDS = 10;

    public OutboxAlert {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(topic, "topic");
        messageIds = List.copyOf(messageIds);
        Objects.requireNonNull(raisedAt, "raisedAt");
    }

    /** One line for a person: what failed, how many, and the last error. */
    public String summary() {
        String side = kind == MessageKind.PUBLISHED ? "could not be sent" : "could not be handled by group " + group;
        return count + (count == 1 ? " message" : " messages") + " of topic '" + topic + "' " + side
                + (count == 1 ? " and is FAILED (id " : " and are FAILED (ids ") + messageIds
                + (count > messageIds.size() ? ", ..." : "")
                + "); last error: " + lastError;
    }
}

package io.github.outbox4j.testing;

import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.spi.StoredMessage;
import java.time.Instant;
import java.util.Map;

/** Rows for engine tests. */
public final class TestRows {
    public static final String TOPIC = "order.paid";

    private TestRows() {}

    /** A fresh published row of {@link #TOPIC}, added at {@code addedAt} and due at {@code due}. */
    public static StoredMessage pending(String id, String key, Instant addedAt, Instant due) {
        return StoredMessage.pending(
                id, null, TOPIC, key, Map.of("outbox-msg-id", id), "{\"orderId\":\"" + id + "\"}", addedAt, due);
    }

    /** A published row that has already failed {@code attempts} times and is due at {@code due}. */
    public static StoredMessage retrying(String id, int attempts, Instant addedAt, Instant due) {
        return new StoredMessage(
                id,
                null,
                TOPIC,
                null,
                Map.of("outbox-msg-id", id),
                "{\"orderId\":\"" + id + "\"}",
                MessageStatus.RETRYING,
                attempts,
                addedAt,
                due,
                null,
                "java.lang.IllegalStateException: broker down",
                attempts);
    }
}

package io.github.outbox4j;

import java.sql.Connection;
import java.util.Map;

/**
 * A received message as its handler sees it: metadata, plus the connection and publisher of the inbox
 * transaction the handler runs in. Valid only during the handler call; not thread-safe.
 *
 * @param id the message id ({@code outbox-msg-id})
 * @param topic the topic
 * @param group the consumer group handling it
 * @param key the ordering key, or {@code null}
 * @param headers every header received
 * @param attempt which attempt this is, 1 for the first
 * @param connection the connection of the inbox transaction: write the handler's effects through it
 * @param publisher publishes in the inbox transaction (sent once it commits)
 */
public record ReceivedMessage(
        String id,
        String topic,
        String group,
        String key,
        Map<String, String> headers,
        int attempt,
        Connection connection,
        OutboxPublisher publisher) {}

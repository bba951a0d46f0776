package io.github.outbox4j.rabbitmq;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import java.io.IOException;
import java.util.Map;
import java.util.Set;

/**
 * The broker objects the transport relies on (DESIGN.md §6): a durable topic exchange, and per consumer group
 * a durable queue, with the configured arguments, bound to it with each subscribed topic as routing key.
 * Declarations are idempotent; a declaration that disagrees with an existing object (another type, other
 * arguments) closes the channel with {@code PRECONDITION_FAILED}, which surfaces as an {@link IOException} whose
 * cause carries the broker's reason.
 */
final class Topology {

    private Topology() {}

    static void declareExchange(Channel channel, String exchange) throws IOException {
        channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, true, false, null);
    }

    static void declareQueue(
            Channel channel, String exchange, String queue, Map<String, Object> arguments, Set<String> topics)
            throws IOException {
        declareExchange(channel, exchange);
        channel.queueDeclare(queue, true, false, false, arguments.isEmpty() ? null : arguments);
        for (String topic : topics) {
            channel.queueBind(queue, exchange, topic);
        }
    }
}

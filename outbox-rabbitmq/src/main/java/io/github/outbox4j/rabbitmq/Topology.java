package io.github.outbox4j.rabbitmq;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import java.io.IOException;
import java.util.Set;

/**
 * The broker objects the transport relies on (DESIGN.md §6): a durable topic exchange, and per consumer group
 * a durable queue bound to it with each subscribed topic as routing key. Declarations are idempotent; a
 * declaration that disagrees with an existing object (another type, other arguments) closes the channel with
 * {@code PRECONDITION_FAILED}, which surfaces as an {@link IOException} naming the difference.
 */
final class Topology {

    private Topology() {}

    static void declareExchange(Channel channel, String exchange) throws IOException {
        channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, true, false, null);
    }

    static void declareQueue(Channel channel, String exchange, String queue, Set<String> topics) throws IOException {
        declareExchange(channel, exchange);
        channel.queueDeclare(queue, true, false, false, null);
        for (String topic : topics) {
            channel.queueBind(queue, exchange, topic);
        }
    }
}

package io.github.outbox4j.rabbitmq;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.TransportMessage;
import io.github.outbox4j.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * What the RabbitMQ integration tests share: unique names, a plain admin connection to look at and clean up the
 * broker, and a recording listener. Each test uses its own exchange and queues and deletes them afterwards.
 */
final class RabbitMqTestSupport {
    final String suffix = UUID.randomUUID().toString().substring(0, 8);
    final String exchange = "outbox.it." + suffix;
    final String queuePrefix = "outbox.it." + suffix + ".";
    final String connectionName = "outbox4j-it-" + suffix;
    private final List<String> queues = new CopyOnWriteArrayList<>();

    RabbitMqOutboxTransport.Builder transport() {
        return RabbitMqOutboxTransport.builder()
                .uri(TestServices.rabbitMqUri())
                .exchange(exchange)
                .queuePrefix(queuePrefix)
                .connectionName(connectionName)
                .redeliveryBackoff(Duration.ofMillis(300));
    }

    /** Remembers a queue to delete at the end; returns its name. */
    String queue(String group) {
        String queue = queuePrefix + group;
        queues.add(queue);
        return queue;
    }

    /** A raw queue bound to the test exchange, outside the transport, to look at what was published. */
    String rawQueue(String name, String routingKey) throws Exception {
        String queue = queue(name);
        admin(channel -> {
            channel.exchangeDeclare(exchange, "topic", true);
            channel.queueDeclare(queue, true, false, false, null);
            channel.queueBind(queue, exchange, routingKey);
            return null;
        });
        return queue;
    }

    long messageCount(String queue) throws Exception {
        return admin(channel -> (long) channel.queueDeclarePassive(queue).getMessageCount());
    }

    int consumerCount(String queue) throws Exception {
        return admin(channel -> channel.queueDeclarePassive(queue).getConsumerCount());
    }

    static TransportMessage message(String topic, String key, String json) {
        String id = UUID.randomUUID().toString();
        return new TransportMessage(
                id, topic, key, outboxHeaders(id, topic, key), json.getBytes(StandardCharsets.UTF_8));
    }

    static Map<String, String> outboxHeaders(String id, String topic, String key) {
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        headers.put(OutboxHeaders.MESSAGE_ID, id);
        headers.put(OutboxHeaders.MESSAGE_NAME, topic);
        if (key != null) {
            headers.put(OutboxHeaders.MESSAGE_KEY, key);
        }
        headers.put(OutboxHeaders.SENT_TIME, Instant.now().toString());
        headers.put(OutboxHeaders.CORRELATION_ID, id);
        headers.put(OutboxHeaders.CONTENT_TYPE, OutboxHeaders.JSON);
        return headers;
    }

    <T> T admin(AdminWork<T> work) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(TestServices.rabbitMqUri());
        factory.setAutomaticRecoveryEnabled(false);
        try (Connection connection = factory.newConnection("outbox4j-it-admin");
                Channel channel = connection.createChannel()) {
            return work.run(channel);
        }
    }

    /** Deletes the test's queues and exchange; safe to call whatever state the broker is in. */
    void deleteAll() throws Exception {
        admin(channel -> {
            for (String queue : queues) {
                channel.queueDelete(queue);
            }
            channel.exchangeDelete(exchange);
            return null;
        });
    }

    interface AdminWork<T> {
        T run(Channel channel) throws Exception;
    }

    /** Records every message it is given, and throws instead while {@code fails} says so. */
    static final class RecordingListener implements InboundListener {
        final List<TransportMessage> calls = new CopyOnWriteArrayList<>();
        final List<Instant> callTimes = new CopyOnWriteArrayList<>();
        final Set<String> accepted = ConcurrentHashMap.newKeySet();
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        private final Predicate<TransportMessage> fails;

        RecordingListener() {
            this(message -> false);
        }

        RecordingListener(Predicate<TransportMessage> fails) {
            this.fails = fails;
        }

        @Override
        public void onMessages(String group, List<TransportMessage> messages) {
            for (TransportMessage message : messages) {
                calls.add(message);
                callTimes.add(Instant.now());
                threads.add(Thread.currentThread().getName());
                if (fails.test(message)) {
                    throw new IllegalStateException("the inbox is down (test)");
                }
                accepted.add(message.id());
            }
        }

        List<TransportMessage> callsFor(String id) {
            List<TransportMessage> result = new ArrayList<>();
            for (TransportMessage call : calls) {
                if (call.id().equals(id)) {
                    result.add(call);
                }
            }
            return result;
        }
    }
}

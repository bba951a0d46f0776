package io.github.outbox4j.reliability;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.impl.LongStringHelper;
import io.github.outbox4j.rabbitmq.RabbitMqOutboxTransport;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.testkit.TestServices;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A RabbitMQ broker — the test broker of {@link TestServices#rabbitMqUri()}, or one given, such as a {@link
 * PrivateRabbitMq} — with an exchange and queue prefix of the fixture's own; {@link #close()} deletes the exchange
 * and the queues of the groups the fixture's test named with {@link #groupWillSubscribe(String)}.
 */
final class RabbitMqFixture implements BrokerFixture {
    static final String URI_PROPERTY = "outbox.reliability.rabbitmq.uri";
    static final String EXCHANGE_PROPERTY = "outbox.reliability.rabbitmq.exchange";
    static final String QUEUE_PREFIX_PROPERTY = "outbox.reliability.rabbitmq.queue-prefix";

    private final String uri;
    private final String exchange;
    private final String queuePrefix;
    private final List<String> queues = new java.util.concurrent.CopyOnWriteArrayList<>();

    RabbitMqFixture() {
        this(TestServices.rabbitMqUri());
    }

    RabbitMqFixture(String uri) {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        this.uri = uri;
        this.exchange = "outbox.reliability." + suffix;
        this.queuePrefix = "outbox.reliability." + suffix + ".";
    }

    /** Makes the transport in another JVM, from system properties. */
    public static final class Factory implements Supplier<OutboxTransport> {
        @Override
        public OutboxTransport get() {
            return transport(
                    System.getProperty(URI_PROPERTY),
                    System.getProperty(EXCHANGE_PROPERTY),
                    System.getProperty(QUEUE_PREFIX_PROPERTY));
        }
    }

    static RabbitMqOutboxTransport transport(String uri, String exchange, String queuePrefix) {
        return builder(uri, exchange, queuePrefix).build();
    }

    private static RabbitMqOutboxTransport.Builder builder(String uri, String exchange, String queuePrefix) {
        return RabbitMqOutboxTransport.builder()
                .uri(uri)
                .exchange(exchange)
                .queuePrefix(queuePrefix)
                .connectionName("outbox4j-reliability")
                .recoveryInterval(Duration.ofSeconds(1))
                .redeliveryBackoff(Duration.ofMillis(500));
    }

    @Override
    public String name() {
        return "RabbitMQ";
    }

    /** Remembers the group's queue, which the transport declares when the group subscribes, for deletion. */
    @Override
    public void groupWillSubscribe(String group) {
        queues.add(queuePrefix + group);
    }

    @Override
    public OutboxTransport newTransport() {
        return transport(uri, exchange, queuePrefix);
    }

    /** A new transport to this broker whose groups' queues are declared with {@code queueArguments}. */
    RabbitMqOutboxTransport newTransport(Map<String, Object> queueArguments) {
        return builder(uri, exchange, queuePrefix)
                .queueArguments(queueArguments)
                .build();
    }

    /** Messages ready in the queue of {@code group}, not delivered to a consumer. */
    long messageCount(String group) throws Exception {
        long[] count = new long[1];
        admin(channel ->
                count[0] = channel.queueDeclarePassive(queuePrefix + group).getMessageCount());
        return count[0];
    }

    @Override
    public Class<? extends Supplier<OutboxTransport>> transportFactory() {
        return Factory.class;
    }

    @Override
    public List<String> transportFactoryProperties() {
        return List.of(
                "-D" + URI_PROPERTY + "=" + uri,
                "-D" + EXCHANGE_PROPERTY + "=" + exchange,
                "-D" + QUEUE_PREFIX_PROPERTY + "=" + queuePrefix);
    }

    /** The AMQP header table holds each name once: the last of repeated names wins here already. */
    @Override
    public void sendRaw(String topic, String key, List<RawHeader> headers, byte[] body) throws Exception {
        Map<String, Object> table = new HashMap<>();
        for (RawHeader header : headers) {
            LongString value = LongStringHelper.asLongString(header.value());
            table.put(header.name(), value);
        }
        admin(channel -> {
            channel.basicPublish(
                    exchange,
                    topic,
                    new AMQP.BasicProperties.Builder()
                            .deliveryMode(2)
                            .headers(table)
                            .build(),
                    body);
            channel.waitForConfirmsOrDie(30_000);
        });
    }

    @Override
    public boolean allowsRepeatedHeaders() {
        return false;
    }

    @Override
    public void close() throws Exception {
        admin(channel -> {
            for (String queue : queues) {
                channel.queueDelete(queue);
            }
            channel.exchangeDelete(exchange);
        });
    }

    private interface ChannelWork {
        void run(Channel channel) throws Exception;
    }

    private void admin(ChannelWork work) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(uri);
        factory.setAutomaticRecoveryEnabled(false);
        try (Connection connection = factory.newConnection("outbox4j-reliability-admin");
                Channel channel = connection.createChannel()) {
            channel.confirmSelect();
            work.run(channel);
        }
    }
}

package io.github.outbox4j.rabbitmq;

import io.github.outbox4j.spi.OutboxTransport;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * Makes the contract's transport, here and in another JVM (the consumer the contract kills), from system
 * properties naming the broker, the exchange and the queue prefix.
 */
public final class RabbitMqTransportFactory implements Supplier<OutboxTransport> {
    static final String URI_PROPERTY = "outbox.test.rabbitmq.uri";
    static final String EXCHANGE_PROPERTY = "outbox.test.rabbitmq.exchange";
    static final String QUEUE_PREFIX_PROPERTY = "outbox.test.rabbitmq.queue-prefix";

    @Override
    public OutboxTransport get() {
        return transport(
                System.getProperty(URI_PROPERTY),
                System.getProperty(EXCHANGE_PROPERTY),
                System.getProperty(QUEUE_PREFIX_PROPERTY));
    }

    static RabbitMqOutboxTransport transport(String uri, String exchange, String queuePrefix) {
        return RabbitMqOutboxTransport.builder()
                .uri(uri)
                .exchange(exchange)
                .queuePrefix(queuePrefix)
                .connectionName("outbox4j-contract")
                .recoveryInterval(Duration.ofSeconds(1))
                .redeliveryBackoff(Duration.ofMillis(500))
                .build();
    }

    static List<String> properties(String uri, String exchange, String queuePrefix) {
        return List.of(
                "-D" + URI_PROPERTY + "=" + uri,
                "-D" + EXCHANGE_PROPERTY + "=" + exchange,
                "-D" + QUEUE_PREFIX_PROPERTY + "=" + queuePrefix);
    }
}

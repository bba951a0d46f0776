package io.github.outbox4j.kafka;

import io.github.outbox4j.spi.OutboxTransport;
import java.time.Duration;
import java.util.function.Supplier;

/** Makes the contract's transport in another JVM (the consumer the contract kills), from a system property. */
public final class KafkaTransportFactory implements Supplier<OutboxTransport> {
    /** The broker's bootstrap servers. */
    public static final String BOOTSTRAP_PROPERTY = "outbox.test.kafka.bootstrap";

    @Override
    public OutboxTransport get() {
        return transport(System.getProperty(BOOTSTRAP_PROPERTY));
    }

    static KafkaOutboxTransport transport(String bootstrapServers) {
        return KafkaOutboxTransport.builder()
                .bootstrapServers(bootstrapServers)
                .createTopics(3, 1)
                .pollTimeout(Duration.ofMillis(200))
                .redeliveryBackoff(Duration.ofMillis(500))
                .build();
    }
}

package io.github.outbox4j.spring.boot;

import io.github.outbox4j.kafka.KafkaOutboxTransport;

/**
 * Changes the {@link KafkaOutboxTransport.Builder} after the starter has configured it from {@code spring.kafka.*}
 * and {@code outbox.kafka.*}, just before the transport is built. Applied in {@link org.springframework.core.Ordered
 * order}.
 */
@FunctionalInterface
public interface KafkaOutboxTransportCustomizer {

    void customize(KafkaOutboxTransport.Builder builder);
}

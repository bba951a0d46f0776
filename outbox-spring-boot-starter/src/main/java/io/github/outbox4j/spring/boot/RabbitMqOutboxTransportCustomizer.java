package io.github.outbox4j.spring.boot;

import io.github.outbox4j.rabbitmq.RabbitMqOutboxTransport;

/**
 * Changes the {@link RabbitMqOutboxTransport.Builder} after the starter has configured it from Spring Boot's RabbitMQ
 * connection and {@code outbox.rabbitmq.*}, just before the transport is built. Applied in {@link
 * org.springframework.core.Ordered order}.
 */
@FunctionalInterface
public interface RabbitMqOutboxTransportCustomizer {

    void customize(RabbitMqOutboxTransport.Builder builder);
}

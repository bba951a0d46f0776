/**
 * The RabbitMQ transport: {@link io.github.outbox4j.rabbitmq.RabbitMqOutboxTransport}, on the plain AMQP 0-9-1
 * Java client. Everything else in this package is an implementation detail.
 */
package io.github.outbox4j.rabbitmq;

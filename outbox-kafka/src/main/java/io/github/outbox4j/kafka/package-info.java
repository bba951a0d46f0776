/**
 * The Kafka transport of Outbox4j: {@link io.github.outbox4j.kafka.KafkaOutboxTransport}. Everything else in
 * this package is internal.
 */
package io.github.outbox4j.kafka;

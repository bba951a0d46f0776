package io.github.outbox4j.spi;

import java.util.Objects;
import java.util.Set;

/**
 * What one consumer group receives: its topics, and how many consumers (threads, Kafka consumers or AMQP
 * channels) the transport runs for it.
 *
 * @param group the consumer group: a Kafka {@code group.id}, a RabbitMQ queue
 * @param topics the topics (Kafka topics, RabbitMQ routing keys) the group subscribes to
 * @param concurrency consumers run for the group, at least 1
 */
public record Subscription(String group, Set<String> topics, int concurrency) {

    public Subscription {
        Objects.requireNonNull(group, "group");
        topics = Set.copyOf(topics);
        if (topics.isEmpty()) {
            throw new IllegalArgumentException("a subscription needs at least one topic");
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1, was " + concurrency);
        }
    }
}

package io.github.outbox4j.kafka;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** What the Kafka integration tests share: unique names, messages as the outbox sends them, an admin view. */
final class KafkaTestSupport {

    private KafkaTestSupport() {}

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A message with the headers the outbox puts on every message (DESIGN.md §6). */
    static TransportMessage outboxMessage(String topic, String key, String json) {
        String id = UUID.randomUUID().toString();
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(OutboxHeaders.MESSAGE_ID, id);
        headers.put(OutboxHeaders.MESSAGE_NAME, topic);
        if (key != null) {
            headers.put(OutboxHeaders.MESSAGE_KEY, key);
        }
        headers.put(OutboxHeaders.SENT_TIME, Instant.now().toString());
        headers.put(OutboxHeaders.CORRELATION_ID, id);
        headers.put(OutboxHeaders.CONTENT_TYPE, OutboxHeaders.JSON);
        return new TransportMessage(id, topic, key, headers, json.getBytes(StandardCharsets.UTF_8));
    }

    static Admin admin(String bootstrapServers) {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        return Admin.create(config);
    }

    /** The group's committed offsets, summed over partitions: the number of messages it has acknowledged. */
    static long committed(Admin admin, String group) {
        return committedOffsets(admin, group).values().stream()
                .mapToLong(OffsetAndMetadata::offset)
                .sum();
    }

    static Map<TopicPartition, OffsetAndMetadata> committedOffsets(Admin admin, String group) {
        Map<TopicPartition, OffsetAndMetadata> offsets =
                get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
        offsets.values().removeIf(java.util.Objects::isNull);
        return offsets;
    }

    /** The number of records in the topic's partitions (end offsets summed). */
    static long endOffsets(Admin admin, String topic) {
        int partitions = get(admin.describeTopics(List.of(topic)).allTopicNames())
                .get(topic)
                .partitions()
                .size();
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            request.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        return get(admin.listOffsets(request).all()).values().stream()
                .mapToLong(info -> info.offset())
                .sum();
    }

    static int partitions(Admin admin, String topic) {
        return get(admin.describeTopics(List.of(topic)).allTopicNames())
                .get(topic)
                .partitions()
                .size();
    }

    static ConsumerGroupDescription group(Admin admin, String group) {
        return get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
    }

    static <T> T get(org.apache.kafka.common.KafkaFuture<T> future) {
        try {
            return future.get(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }
}

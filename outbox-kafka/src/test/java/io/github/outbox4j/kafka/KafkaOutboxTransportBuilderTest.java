package io.github.outbox4j.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.OutboxConfigurationException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaOutboxTransportBuilderTest {

    @Test
    void bootstrapServersAreRequired() {
        assertThatThrownBy(() -> KafkaOutboxTransport.builder().build())
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.kafka.bootstrap-servers"));
        assertThatThrownBy(() -> KafkaOutboxTransport.builder().bootstrapServers(" "))
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.kafka.bootstrap-servers"));
    }

    @Test
    void durationsAreValidatedNamingTheirProperty() {
        KafkaOutboxTransport.Builder builder = KafkaOutboxTransport.builder();

        assertProperty(() -> builder.pollTimeout(Duration.ZERO), "outbox.kafka.poll-timeout");
        assertProperty(() -> builder.pollTimeout(null), "outbox.kafka.poll-timeout");
        assertProperty(() -> builder.redeliveryBackoff(Duration.ofSeconds(-1)), "outbox.kafka.redelivery-backoff");
        assertProperty(() -> builder.closeTimeout(Duration.ofMillis(-1)), "outbox.kafka.close-timeout");
        builder.redeliveryBackoff(Duration.ZERO).closeTimeout(Duration.ZERO);
    }

    @Test
    void topicCreationNeedsAtLeastOnePartitionAndReplica() {
        KafkaOutboxTransport.Builder builder = KafkaOutboxTransport.builder();

        assertProperty(() -> builder.createTopics(0, 1), "outbox.kafka.create-topics.partitions");
        assertProperty(() -> builder.createTopics(3, 0), "outbox.kafka.create-topics.replication-factor");
        assertProperty(() -> builder.createTopics(3, 40_000), "outbox.kafka.create-topics.replication-factor");
    }

    @Test
    void settingsTheTransportReliesOnCannotBeOverridden() {
        KafkaOutboxTransport.Builder builder = KafkaOutboxTransport.builder();

        assertProperty(
                () -> builder.consumerProperties(Map.of("enable.auto.commit", "true")),
                "outbox.kafka.consumer.enable.auto.commit");
        assertProperty(() -> builder.consumerProperties(Map.of("group.id", "mine")), "outbox.kafka.consumer.group.id");
        assertProperty(
                () -> builder.producerProperties(Map.of("value.serializer", "x")),
                "outbox.kafka.producer.value.serializer");
        assertProperty(() -> builder.producerProperties(Map.of("acks", "0")), "outbox.kafka.producer.acks");
        assertProperty(
                () -> builder.properties(Map.of("enable.auto.commit", "true")),
                "outbox.kafka.properties.enable.auto.commit");
        assertProperty(
                () -> builder.properties(Map.of("key.deserializer", "x")), "outbox.kafka.properties.key.deserializer");
    }

    @Test
    void kafkaChecksEveryClientSettingWhenTheTransportIsBuilt() {
        assertProperty(
                () -> valid().producerProperties(Map.of("max.block.ms", "ten seconds"))
                        .build(),
                "outbox.kafka.producer.max.block.ms");
        assertProperty(
                () -> valid().producerProperties(Map.of("max.block.ms", "-1")).build(),
                "outbox.kafka.producer.max.block.ms");
        assertProperty(
                () -> valid().consumerProperties(Map.of("max.poll.records", "0"))
                        .build(),
                "outbox.kafka.consumer.max.poll.records");
        assertProperty(
                () -> valid().properties(Map.of("security.protocol", "CARRIER_PIGEON"))
                        .build(),
                "outbox.kafka.properties.security.protocol");
        assertThatThrownBy(() -> valid().consumerProperties(Map.of("max.poll.records", "many"))
                        .build())
                .hasMessageContaining("many");
    }

    private static KafkaOutboxTransport.Builder valid() {
        return KafkaOutboxTransport.builder().bootstrapServers("127.0.0.1:9092");
    }

    @Test
    void theDefaultsKeepEveryAttemptBoundedAndAcknowledged() {
        assertThat(KafkaOutboxTransport.DEFAULT_PRODUCER_PROPERTIES)
                .containsEntry("acks", "all")
                .containsEntry("enable.idempotence", "true")
                .containsEntry("linger.ms", "1")
                .containsEntry("max.block.ms", "10000")
                .containsEntry("delivery.timeout.ms", "25000");
        assertThat(KafkaOutboxTransport.DEFAULT_CONSUMER_PROPERTIES).containsEntry("auto.offset.reset", "earliest");
    }

    @Test
    void aTransportThatNeverStartedClosesQuietly() {
        KafkaOutboxTransport transport =
                KafkaOutboxTransport.builder().bootstrapServers("127.0.0.1:1").build();

        transport.close();
        transport.close();

        assertThat(transport.name()).isEqualTo("kafka");
        assertThat(transport
                        .send(KafkaTestSupport.outboxMessage("t", null, "{}"))
                        .toCompletableFuture())
                .isCompletedExceptionally();
    }

    private static void assertProperty(Runnable call, String property) {
        assertThatThrownBy(call::run)
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo(property));
    }
}

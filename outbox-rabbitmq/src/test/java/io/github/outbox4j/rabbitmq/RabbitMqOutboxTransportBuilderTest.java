package io.github.outbox4j.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.ConnectionFactory;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.spi.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RabbitMqOutboxTransportBuilderTest {

    @Test
    void defaultsFollowTheDesign() {
        RabbitMqOutboxTransport transport = RabbitMqOutboxTransport.builder()
                .uri("amqp://guest:guest@127.0.0.1:5672")
                .build();

        assertThat(transport.name()).isEqualTo("rabbitmq");
        assertThat(transport.exchange()).isEqualTo("outbox.default.router");
        assertThat(transport.queueName("inventory")).isEqualTo("inventory");
    }

    @Test
    void queuesAreNamedPrefixPlusGroup() {
        RabbitMqOutboxTransport transport = RabbitMqOutboxTransport.builder()
                .uri("amqp://127.0.0.1")
                .queuePrefix("shop.")
                .build();

        assertThat(transport.queueName("inventory")).isEqualTo("shop.inventory");
        assertThatThrownBy(() -> transport.queueName(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> transport.queueName("x".repeat(251)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("255 bytes");
    }

    @Test
    void eachInvalidSettingNamesItsProperty() {
        RabbitMqOutboxTransport.Builder builder = RabbitMqOutboxTransport.builder();

        assertProperty(() -> builder.uri("http://[broken"), "outbox.rabbitmq.uri");
        assertProperty(() -> builder.uri(" "), "outbox.rabbitmq.uri");
        assertProperty(() -> builder.exchange(""), "outbox.rabbitmq.exchange");
        assertProperty(() -> builder.exchange("amq.topic"), "outbox.rabbitmq.exchange");
        assertProperty(() -> builder.queuePrefix("amq.x"), "outbox.rabbitmq.queue-prefix");
        assertProperty(() -> builder.prefetch(0), "outbox.rabbitmq.prefetch");
        assertProperty(() -> builder.prefetch(65536), "outbox.rabbitmq.prefetch");
        assertProperty(() -> builder.maxInFlightConfirms(0), "outbox.rabbitmq.max-in-flight-confirms");
        assertProperty(() -> builder.confirmTimeout(Duration.ZERO), "outbox.rabbitmq.confirm-timeout");
        assertProperty(() -> builder.redeliveryBackoff(Duration.ofMillis(-1)), "outbox.rabbitmq.redelivery-backoff");
        assertProperty(() -> builder.recoveryInterval(Duration.ZERO), "outbox.rabbitmq.recovery-interval");
        assertProperty(() -> builder.connectionName(""), "outbox.rabbitmq.connection-name");
        assertProperty(builder::build, "outbox.rabbitmq.uri");
        assertProperty(
                () -> RabbitMqOutboxTransport.builder()
                        .uri("amqp://127.0.0.1")
                        .connectionFactory(new ConnectionFactory())
                        .build(),
                "outbox.rabbitmq.uri");
    }

    @Test
    void queueArgumentsAreTextNumbersOrBooleansAndTheQueueTypeOneTheConsumersWorkWith() {
        RabbitMqOutboxTransport.Builder builder = RabbitMqOutboxTransport.builder();

        builder.queueArguments(
                Map.of("x-queue-type", "quorum", "x-delivery-limit", 50, "x-single-active-consumer", true));
        builder.queueArguments(Map.of("x-queue-type", "classic"));
        assertProperty(
                () -> builder.queueArguments(Map.of("x-queue-type", "stream")),
                "outbox.rabbitmq.queue-arguments.x-queue-type");
        assertProperty(
                () -> builder.queueArguments(Map.of("x-dead-letter-exchange", List.of("a", "b"))),
                "outbox.rabbitmq.queue-arguments.x-dead-letter-exchange");
        assertProperty(() -> builder.queueArguments(Map.of(" ", "x")), "outbox.rabbitmq.queue-arguments");
        assertProperty(() -> builder.queueArguments(null), "outbox.rabbitmq.queue-arguments");
        assertThatThrownBy(() -> builder.queueArguments(Map.of("x-queue-type", "stream")))
                .hasMessageContaining("must be one of [classic, quorum], was 'stream'");
    }

    @Test
    void queueArgumentsFromTextAreTypedAsRabbitMqExpectsThem() {
        RabbitMqOutboxTransport transport = RabbitMqOutboxTransport.builder()
                .uri("amqp://127.0.0.1")
                .queueArgumentsFromText(Map.of(
                        "x-queue-type", "quorum",
                        "x-delivery-limit", " 50 ",
                        "x-single-active-consumer", "TRUE",
                        "x-dead-letter-exchange", "orders.dead",
                        "x-max-length", "99999999999999999999"))
                .build();

        assertThat(transport.queueArguments())
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        "x-queue-type", "quorum",
                        "x-delivery-limit", 50L,
                        "x-single-active-consumer", true,
                        "x-dead-letter-exchange", "orders.dead",
                        "x-max-length", "99999999999999999999"));
        assertProperty(
                () -> RabbitMqOutboxTransport.builder().queueArgumentsFromText(Map.of("x-queue-type", "stream")),
                "outbox.rabbitmq.queue-arguments.x-queue-type");
    }

    @Test
    void aGivenConnectionFactoryIsCopiedNotChanged() {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setAutomaticRecoveryEnabled(false);
        factory.setTopologyRecoveryEnabled(false);

        RabbitMqOutboxTransport.builder()
                .connectionFactory(factory)
                .recoveryInterval(Duration.ofSeconds(2))
                .build();

        assertThat(factory.isAutomaticRecoveryEnabled()).isFalse();
        assertThat(factory.isTopologyRecoveryEnabled()).isFalse();
        assertThat(factory.getNetworkRecoveryInterval()).isEqualTo(5000);
    }

    @Test
    void sendingOrSubscribingBeforeStartFailsClearly() {
        RabbitMqOutboxTransport transport =
                RabbitMqOutboxTransport.builder().uri("amqp://127.0.0.1").build();

        assertThat(transport.send(RabbitMqTestSupport.message("t", null, "{}")))
                .failsWithin(Duration.ofSeconds(1))
                .withThrowableThat()
                .withMessageContaining("not started");
        assertThatThrownBy(() -> transport.subscribe(new Subscription("g", Set.of("t"), 1), (group, messages) -> {}))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("start");
        transport.close();
        transport.close();
    }

    private static void assertProperty(Runnable setting, String property) {
        assertThatThrownBy(setting::run)
                .isInstanceOf(OutboxConfigurationException.class)
                .hasMessageStartingWith(property + ":")
                .satisfies(e -> assertThat(((OutboxConfigurationException) e).property())
                        .isEqualTo(property));
    }
}

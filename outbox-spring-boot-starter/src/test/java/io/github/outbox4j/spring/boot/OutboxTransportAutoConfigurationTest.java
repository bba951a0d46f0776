package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.ConnectionFactory;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.kafka.KafkaOutboxTransport;
import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.rabbitmq.RabbitMqOutboxTransport;
import io.github.outbox4j.spi.OutboxTransport;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Which transport the starter configures, and from which settings. The outbox is not started here ({@code
 * outbox.auto-startup=false}): these tests need no broker.
 */
class OutboxTransportAutoConfigurationTest {
    private final ApplicationContextRunner runner = StarterTestSupport.runner()
            .withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, RabbitAutoConfiguration.class))
            .withPropertyValues("outbox.transport=", "outbox.auto-startup=false");

    @Test
    void kafkaAloneOnTheClassPathIsChosen() {
        runner.withClassLoader(new FilteredClassLoader(RabbitMqOutboxTransport.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).getBean(OutboxTransport.class).isInstanceOf(KafkaOutboxTransport.class);
                });
    }

    @Test
    void rabbitMqAloneOnTheClassPathIsChosen() {
        runner.withClassLoader(new FilteredClassLoader(KafkaOutboxTransport.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).getBean(OutboxTransport.class).isInstanceOf(RabbitMqOutboxTransport.class);
                    assertThat(context.getBean(RabbitMqOutboxTransport.class).exchange())
                            .isEqualTo("outbox.default.router");
                });
    }

    @Test
    void outboxTransportChoosesWhenBothAreOnTheClassPath() {
        runner.withPropertyValues("outbox.transport=kafka").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).getBeans(OutboxTransport.class).hasSize(1);
            assertThat(context).getBean(OutboxTransport.class).isInstanceOf(KafkaOutboxTransport.class);
        });
        runner.withPropertyValues("outbox.transport=rabbitmq", "outbox.rabbitmq.exchange=orders.events")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).getBeans(OutboxTransport.class).hasSize(1);
                    assertThat(context.getBean(RabbitMqOutboxTransport.class).exchange())
                            .isEqualTo("orders.events");
                });
        runner.withPropertyValues("outbox.transport=in-memory").run(context -> {
            assertThat(context).getBean(OutboxTransport.class).isInstanceOf(InMemoryTransport.class);
        });
    }

    @Test
    void ambiguousWithoutOutboxTransport() {
        runner.run(context -> {
            assertThat(context).hasFailed();
            OutboxConfigurationException cause =
                    (OutboxConfigurationException) OutboxAutoConfigurationTest.rootCause(context);
            assertThat(cause.property()).isEqualTo("outbox.transport");
            assertThat(cause).hasMessageContaining("outbox.transport=kafka").hasMessageContaining("rabbitmq");
        });
    }

    @Test
    void withoutKafkaClassesTheKafkaFacetBacksOff() {
        runner.withPropertyValues("outbox.transport=kafka")
                .withClassLoader(new FilteredClassLoader(KafkaOutboxTransport.class))
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(OutboxAutoConfigurationTest.rootCause(context))
                            .hasMessageStartingWith("outbox.transport: ")
                            .hasMessageContaining("not on the class path");
                });
    }

    @Test
    void withoutBootsKafkaSupportTheMessageSaysWhatToAdd() {
        runner.withClassLoader(new FilteredClassLoader(RabbitMqOutboxTransport.class, KafkaProperties.class))
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(OutboxAutoConfigurationTest.rootCause(context))
                            .hasMessageContaining("spring-boot-starter-kafka");
                });
    }

    @Test
    void aTransportOfTheApplicationWins() {
        runner.withUserConfiguration(UserTransport.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).getBeans(OutboxTransport.class).hasSize(1);
            assertThat(context).getBean(OutboxTransport.class).isSameAs(UserTransport.TRANSPORT);
        });
    }

    @Test
    void kafkaSettingsComeFromSpringKafka() {
        KafkaProperties kafka = bind(
                "spring.kafka.bootstrap-servers=broker-1:9092,broker-2:9092",
                "spring.kafka.client-id=shop",
                "spring.kafka.properties.security.protocol=SASL_PLAINTEXT",
                "spring.kafka.producer.properties.linger.ms=7",
                "spring.kafka.producer.compression-type=zstd",
                "spring.kafka.producer.key-serializer=org.apache.kafka.common.serialization.LongSerializer",
                "spring.kafka.consumer.group-id=shop-listeners",
                "spring.kafka.consumer.enable-auto-commit=true",
                "spring.kafka.consumer.max-poll-records=50");
        OutboxKafkaAutoConfiguration.BootKafkaSettings settings =
                OutboxKafkaAutoConfiguration.BootKafkaSettings.of(kafka, null);
        assertThat(settings.bootstrapServers()).isEqualTo("broker-1:9092,broker-2:9092");
        assertThat(settings.producer())
                .containsEntry("linger.ms", "7")
                .containsEntry("compression.type", "zstd")
                .containsEntry("security.protocol", "SASL_PLAINTEXT")
                .containsEntry("client.id", "shop-outbox")
                .doesNotContainKeys("key.serializer", "value.serializer", "bootstrap.servers");
        assertThat(settings.consumer())
                .containsEntry("max.poll.records", "50")
                .containsEntry("security.protocol", "SASL_PLAINTEXT")
                .doesNotContainKeys("group.id", "enable.auto.commit", "key.deserializer", "value.deserializer");
    }

    @Test
    void kafkaConnectionDetailsWinOverProperties() {
        KafkaConnectionDetails details = () -> List.of("from-details:9093");
        OutboxKafkaAutoConfiguration.BootKafkaSettings settings = OutboxKafkaAutoConfiguration.BootKafkaSettings.of(
                bind("spring.kafka.bootstrap-servers=from-properties:9092"), details);
        assertThat(settings.bootstrapServers()).isEqualTo("from-details:9093");
    }

    @Test
    void aBadSpringKafkaSettingFailsNamingItsKey() {
        OutboxAutoConfigurationTest.assertFailsNaming(
                runner.withPropertyValues("outbox.transport=kafka", "spring.kafka.producer.acks=0"),
                "spring.kafka.producer.acks");
    }

    @Test
    void aBadOutboxKafkaSettingFailsNamingItsKey() {
        OutboxAutoConfigurationTest.assertFailsNaming(
                runner.withPropertyValues("outbox.transport=kafka", "outbox.kafka.poll-timeout=0s"),
                "outbox.kafka.poll-timeout");
        OutboxAutoConfigurationTest.assertFailsNaming(
                runner.withPropertyValues("outbox.transport=kafka", "outbox.kafka.consumer.enable.auto.commit=true"),
                "outbox.kafka.consumer.enable.auto.commit");
        OutboxAutoConfigurationTest.assertFailsNaming(
                runner.withPropertyValues("outbox.transport=kafka", "outbox.kafka.create-topics.partitions=0"),
                "outbox.kafka.create-topics.partitions");
    }

    @Test
    void aBadOutboxRabbitMqSettingFailsNamingItsKey() {
        OutboxAutoConfigurationTest.assertFailsNaming(
                runner.withPropertyValues("outbox.transport=rabbitmq", "outbox.rabbitmq.prefetch=0"),
                "outbox.rabbitmq.prefetch");
        OutboxAutoConfigurationTest.assertFailsNaming(
                runner.withPropertyValues("outbox.transport=rabbitmq", "outbox.rabbitmq.exchange=amq.topic"),
                "outbox.rabbitmq.exchange");
    }

    @Test
    void queueArgumentsAreDeclaredTypedAsRabbitMqExpectsThem() {
        runner.withPropertyValues(
                        "outbox.transport=rabbitmq",
                        "outbox.rabbitmq.queue-arguments.x-queue-type=quorum",
                        "outbox.rabbitmq.queue-arguments.x-delivery-limit=50",
                        "outbox.rabbitmq.queue-arguments.x-single-active-consumer=true",
                        "outbox.rabbitmq.queue-arguments.x-dead-letter-exchange=orders.dead")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(RabbitMqOutboxTransport.class).queueArguments())
                            .containsExactlyInAnyOrderEntriesOf(java.util.Map.of(
                                    "x-queue-type",
                                    "quorum",
                                    "x-delivery-limit",
                                    50L,
                                    "x-single-active-consumer",
                                    true,
                                    "x-dead-letter-exchange",
                                    "orders.dead"));
                });
        runner.withPropertyValues("outbox.transport=rabbitmq")
                .run(context -> assertThat(
                                context.getBean(RabbitMqOutboxTransport.class).queueArguments())
                        .isEmpty());
        OutboxAutoConfigurationTest.assertFailsNaming(
                runner.withPropertyValues(
                        "outbox.transport=rabbitmq", "outbox.rabbitmq.queue-arguments.x-queue-type=stream"),
                "outbox.rabbitmq.queue-arguments.x-queue-type");
    }

    @Test
    void rabbitMqConnectsLikeBootsConnectionFactory() {
        runner.withPropertyValues(
                        "outbox.transport=rabbitmq",
                        "spring.rabbitmq.host=rabbit.example",
                        "spring.rabbitmq.port=5673",
                        "spring.rabbitmq.username=shop",
                        "spring.rabbitmq.virtual-host=orders")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    ConnectionFactory factory = OutboxRabbitMqAutoConfiguration.connectionFactory(
                            context.getBeanProvider(ConnectionFactory.class), context.getBeanFactory());
                    assertThat(factory)
                            .isSameAs(context.getBean(CachingConnectionFactory.class)
                                    .getRabbitConnectionFactory());
                    assertThat(factory.getHost()).isEqualTo("rabbit.example");
                    assertThat(factory.getPort()).isEqualTo(5673);
                    assertThat(factory.getUsername()).isEqualTo("shop");
                    assertThat(factory.getVirtualHost()).isEqualTo("orders");
                });
    }

    @Test
    void aRabbitMqClientFactoryOfTheApplicationWins() {
        runner.withPropertyValues("outbox.transport=rabbitmq")
                .withUserConfiguration(UserRabbitFactory.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(OutboxRabbitMqAutoConfiguration.connectionFactory(
                                    context.getBeanProvider(ConnectionFactory.class), context.getBeanFactory()))
                            .isSameAs(context.getBean("myRabbitFactory"));
                });
    }

    @Test
    void customizersSeeTheBuilders() {
        runner.withPropertyValues("outbox.transport=rabbitmq")
                .withUserConfiguration(Customizers.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(RabbitMqOutboxTransport.class).exchange())
                            .isEqualTo("customized");
                });
        runner.withPropertyValues("outbox.transport=kafka")
                .withUserConfiguration(Customizers.class)
                .run(context -> assertThat(Customizers.KAFKA.get()).isPositive());
    }

    private static KafkaProperties bind(String... properties) {
        java.util.Map<String, String> map = new java.util.LinkedHashMap<>();
        for (String property : properties) {
            int equals = property.indexOf('=');
            map.put(property.substring(0, equals), property.substring(equals + 1));
        }
        return new Binder(new MapConfigurationPropertySource(map))
                .bind("spring.kafka", KafkaProperties.class)
                .orElseGet(KafkaProperties::new);
    }

    @Configuration(proxyBeanMethods = false)
    static class UserTransport {
        static final InMemoryTransport TRANSPORT = new InMemoryTransport();

        @Bean
        OutboxTransport myTransport() {
            return TRANSPORT;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserRabbitFactory {
        @Bean
        ConnectionFactory myRabbitFactory() {
            ConnectionFactory factory = new ConnectionFactory();
            factory.setHost("mine.example");
            return factory;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Customizers {
        static final AtomicInteger KAFKA = new AtomicInteger();

        @Bean
        RabbitMqOutboxTransportCustomizer rabbitCustomizer() {
            return builder -> builder.exchange("customized");
        }

        @Bean
        KafkaOutboxTransportCustomizer kafkaCustomizer() {
            return builder -> KAFKA.incrementAndGet();
        }
    }
}

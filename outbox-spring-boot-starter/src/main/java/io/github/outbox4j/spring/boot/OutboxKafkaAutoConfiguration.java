package io.github.outbox4j.spring.boot;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.kafka.KafkaOutboxTransport;
import io.github.outbox4j.spi.OutboxTransport;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * The Kafka transport facet: a {@link KafkaOutboxTransport} connected the way the application's own Kafka clients
 * are, from Spring Boot's {@code spring.kafka.*} (bootstrap servers, security, {@code spring.kafka.properties.*},
 * {@code spring.kafka.producer.*} and {@code spring.kafka.consumer.*}, and a {@link KafkaConnectionDetails} bean such
 * as a Testcontainers service connection). {@code outbox.kafka.*} holds only the transport's own settings, and
 * {@code outbox.kafka.producer.*} / {@code outbox.kafka.consumer.*} override client settings for the outbox's clients
 * alone.
 *
 * <p>The settings the transport fixes are not taken from Boot: serializers and deserializers, {@code group.id} (the
 * subscription's group), {@code enable.auto.commit} (offsets are committed after the inbox stored the records).
 * Active when {@code outbox-kafka} and Boot's Kafka support ({@code spring-boot-kafka}) are on the class path and
 * {@code outbox.transport} is {@code kafka} or unset with no RabbitMQ transport on the class path.
 */
@AutoConfiguration(
        after = OutboxAutoConfiguration.class,
        afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@ConditionalOnClass({KafkaOutboxTransport.class, KafkaProperties.class})
@ConditionalOnBean(Outbox.class)
@ConditionalOnOutboxTransport(OutboxProperties.Transport.KAFKA)
public final class OutboxKafkaAutoConfiguration {
    private static final Set<String> FIXED_PRODUCER = Set.of(
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            // a transactional producer would need every send in a Kafka transaction; the outbox is the transaction
            ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    private static final Set<String> FIXED_CONSUMER = Set.of(
            ConsumerConfig.GROUP_ID_CONFIG,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG);

    @Bean
    @ConditionalOnMissingBean(OutboxTransport.class)
    KafkaOutboxTransport outboxKafkaTransport(
            OutboxProperties properties,
            ObjectProvider<KafkaProperties> kafkaProperties,
            ObjectProvider<KafkaConnectionDetails> connectionDetails,
            ObjectProvider<KafkaOutboxTransportCustomizer> customizers,
            Environment environment) {
        // KafkaAutoConfiguration binds KafkaProperties only when spring-kafka is present; bind them here otherwise
        KafkaProperties kafka = kafkaProperties.getIfAvailable(() -> Binder.get(environment)
                .bind("spring.kafka", KafkaProperties.class)
                .orElseGet(KafkaProperties::new));
        BootKafkaSettings boot = BootKafkaSettings.of(kafka, connectionDetails.getIfAvailable());
        OutboxProperties.Kafka own = properties.kafka();
        KafkaOutboxTransport.Builder builder = KafkaOutboxTransport.builder()
                .bootstrapServers(boot.bootstrapServers())
                .pollTimeout(own.pollTimeout())
                .redeliveryBackoff(own.redeliveryBackoff())
                .closeTimeout(own.closeTimeout());
        fromBoot("spring.kafka.producer", () -> builder.producerProperties(boot.producer()));
        fromBoot("spring.kafka.consumer", () -> builder.consumerProperties(boot.consumer()));
        builder.producerProperties(own.producer());
        builder.consumerProperties(own.consumer());
        if (own.createTopics().partitions() != null) {
            builder.createTopics(
                    own.createTopics().partitions(), own.createTopics().replicationFactor());
        }
        customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
        return builder.build();
    }

    /**
     * Applies settings that came from {@code spring.kafka.*}: when the transport's builder rejects one, the message
     * names the {@code spring.kafka.*} key the user wrote rather than the {@code outbox.kafka.*} one.
     */
    private static void fromBoot(String prefix, Runnable apply) {
        try {
            apply.run();
        } catch (OutboxConfigurationException e) {
            String property = e.property().replaceFirst("^outbox\\.kafka\\.(producer|consumer)", prefix);
            String message = e.getMessage().substring(e.getMessage().indexOf(": ") + 2);
            // not chained: the key the user wrote must be the root cause the failure analysis reports
            throw new OutboxConfigurationException(property, message);
        }
    }

    /**
     * What the outbox's Kafka clients take from Spring Boot: the bootstrap servers, and the producer and consumer
     * properties Boot builds from {@code spring.kafka.*}, as strings, without the settings the transport fixes.
     */
    record BootKafkaSettings(String bootstrapServers, Map<String, String> producer, Map<String, String> consumer) {

        static BootKafkaSettings of(KafkaProperties kafka, @Nullable KafkaConnectionDetails details) {
            Map<String, Object> producer = kafka.buildProducerProperties();
            Map<String, Object> consumer = kafka.buildConsumerProperties();
            List<String> bootstrapServers = kafka.getBootstrapServers();
            if (details != null) {
                // what KafkaAutoConfiguration applies to its own factories (an SSL bundle aside: use
                // spring.kafka.ssl.*)
                bootstrapServers = details.getProducer().getBootstrapServers();
                putIfText(
                        producer,
                        CommonClientConfigs.SECURITY_PROTOCOL_CONFIG,
                        details.getProducer().getSecurityProtocol());
                putIfText(consumer, CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, details.getSecurityProtocol());
            }
            producer.remove(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
            consumer.remove(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
            Object clientId = producer.get(CommonClientConfigs.CLIENT_ID_CONFIG);
            if (clientId != null) {
                // the application's own producer may carry the same id; Kafka registers each client's metrics under it
                producer.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId + "-outbox");
            }
            return new BootKafkaSettings(
                    String.join(",", bootstrapServers),
                    strings(producer, FIXED_PRODUCER),
                    strings(consumer, FIXED_CONSUMER));
        }

        /** Boot's client properties as the strings Kafka parses too: lists joined by commas, classes by name. */
        private static Map<String, String> strings(Map<String, Object> properties, Set<String> fixed) {
            Map<String, String> strings = new LinkedHashMap<>();
            properties.forEach((key, value) -> {
                if (value == null || fixed.contains(key)) {
                    return;
                }
                if (value instanceof Collection<?> values) {
                    strings.put(key, values.stream().map(String::valueOf).collect(Collectors.joining(",")));
                } else if (value instanceof Class<?> type) {
                    strings.put(key, type.getName());
                } else {
                    strings.put(key, String.valueOf(value));
                }
            });
            return strings;
        }

        private static void putIfText(Map<String, Object> properties, String key, @Nullable String value) {
            if (StringUtils.hasText(value)) {
                properties.put(key, value);
            }
        }
    }
}

package io.github.outbox4j.spring.boot;

import com.rabbitmq.client.ConnectionFactory;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.rabbitmq.RabbitMqOutboxTransport;
import io.github.outbox4j.spi.OutboxTransport;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.rabbit.connection.AbstractConnectionFactory;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.util.ClassUtils;

/**
 * The RabbitMQ transport facet: a {@link RabbitMqOutboxTransport} connected like the application's own RabbitMQ
 * clients. The connection settings are those of a {@code com.rabbitmq.client.ConnectionFactory} bean when the
 * application defines one, else those of the client connection factory under Spring Boot's {@code
 * CachingConnectionFactory}, which Boot configures from {@code spring.rabbitmq.*} (host, port, credentials, virtual
 * host, TLS; with several {@code spring.rabbitmq.addresses}, the first). The transport works on a copy, with automatic
 * recovery on. {@code outbox.rabbitmq.*} holds only the transport's own settings: exchange, queues, prefetch,
 * confirms, backoffs.
 *
 * <p>Active when {@code outbox-rabbitmq} is on the class path and {@code outbox.transport} is {@code rabbitmq} or
 * unset with no Kafka transport on the class path.
 */
@AutoConfiguration(
        after = OutboxAutoConfiguration.class,
        afterName = "org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration")
@ConditionalOnClass(RabbitMqOutboxTransport.class)
@ConditionalOnBean(Outbox.class)
@ConditionalOnOutboxTransport(OutboxProperties.Transport.RABBITMQ)
public final class OutboxRabbitMqAutoConfiguration {
    private static final String SPRING_RABBIT_FACTORY =
            "org.springframework.amqp.rabbit.connection.AbstractConnectionFactory";

    @Bean
    @ConditionalOnMissingBean(OutboxTransport.class)
    RabbitMqOutboxTransport outboxRabbitMqTransport(
            OutboxProperties properties,
            ObjectProvider<ConnectionFactory> clientFactory,
            ObjectProvider<RabbitMqOutboxTransportCustomizer> customizers,
            ConfigurableListableBeanFactory beanFactory) {
        ConnectionFactory factory = connectionFactory(clientFactory, beanFactory);
        if (factory == null) {
            throw new OutboxConfigurationException(
                    "spring.rabbitmq.host",
                    "the RabbitMQ transport found no connection settings: add Spring Boot's RabbitMQ support"
                            + " (spring-boot-starter-amqp), which configures the connection from spring.rabbitmq.*, or"
                            + " define a com.rabbitmq.client.ConnectionFactory bean");
        }
        OutboxProperties.Rabbitmq own = properties.rabbitmq();
        RabbitMqOutboxTransport.Builder builder = RabbitMqOutboxTransport.builder()
                .connectionFactory(factory)
                .exchange(own.exchange())
                .queuePrefix(own.queuePrefix())
                .queueArgumentsFromText(own.queueArguments())
                .prefetch(own.prefetch())
                .maxInFlightConfirms(own.maxInFlightConfirms())
                .confirmTimeout(own.confirmTimeout())
                .redeliveryBackoff(own.redeliveryBackoff())
                .connectionName(own.connectionName());
        if (own.recoveryInterval() != null) {
            builder.recoveryInterval(own.recoveryInterval());
        }
        customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
        return builder.build();
    }

    /**
     * The application's {@code com.rabbitmq.client.ConnectionFactory} bean, else the one under Spring AMQP's
     * connection factory bean, else {@code null}.
     */
    static @Nullable ConnectionFactory connectionFactory(
            ObjectProvider<ConnectionFactory> clientFactory, ConfigurableListableBeanFactory beanFactory) {
        ConnectionFactory factory = clientFactory.getIfUnique();
        if (factory == null && ClassUtils.isPresent(SPRING_RABBIT_FACTORY, beanFactory.getBeanClassLoader())) {
            factory = SpringRabbit.clientFactory(beanFactory);
        }
        return factory;
    }

    /** Reads Spring AMQP's connection factory; loaded only when Spring AMQP is on the class path. */
    private static final class SpringRabbit {
        static @Nullable ConnectionFactory clientFactory(BeanFactory beanFactory) {
            ObjectProvider<org.springframework.amqp.rabbit.connection.ConnectionFactory> factories =
                    beanFactory.getBeanProvider(org.springframework.amqp.rabbit.connection.ConnectionFactory.class);
            return factories.getIfUnique() instanceof AbstractConnectionFactory boot
                    ? boot.getRabbitConnectionFactory()
                    : null;
        }
    }
}

package io.github.outbox4j.spring.jpa;

import com.rabbitmq.client.Channel;
import io.github.outbox4j.testkit.TestServices;
import java.io.IOException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.Connection;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** On MariaDB (or MySQL) and RabbitMQ. */
@Import(MariaDbRabbitMqJpaIT.RabbitCleanup.class)
class MariaDbRabbitMqJpaIT extends AbstractJpaIT {

    @BeforeAll
    static void services() {
        TestServices.mysqlUrl();
        TestServices.rabbitMqUri();
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        String suffix = jpaProperties(registry).get("scenario.suffix");
        registry.add("spring.datasource.url", TestServices::mysqlUrl);
        registry.add("spring.rabbitmq.addresses", TestServices::rabbitMqUri);
        registry.add("outbox.transport", () -> "rabbitmq");
        registry.add("outbox.rabbitmq.exchange", () -> "jpa." + suffix);
    }

    /** Deletes the class's queue and exchange: durable, they would outlive the test. */
    @TestConfiguration(proxyBeanMethods = false)
    static class RabbitCleanup {
        @Bean
        BrokerCleanup rabbitCleanup(CachingConnectionFactory connectionFactory) {
            return environment -> {
                String suffix = environment.getRequiredProperty("scenario.suffix");
                try (Connection connection = connectionFactory.createConnection();
                        Channel channel = connection.createChannel(false)) {
                    channel.queueDelete("stock-" + suffix);
                    channel.exchangeDelete(environment.getRequiredProperty("outbox.rabbitmq.exchange"));
                } catch (IOException | TimeoutException e) {
                    throw new IllegalStateException("Cannot clean up RabbitMQ after the test", e);
                }
            };
        }
    }
}

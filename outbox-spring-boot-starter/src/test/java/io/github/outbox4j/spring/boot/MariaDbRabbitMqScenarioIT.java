package io.github.outbox4j.spring.boot;

import com.rabbitmq.client.Channel;
import io.github.outbox4j.testkit.TestServices;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.Connection;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The scenario on MariaDB (or MySQL) and RabbitMQ. */
@Import(MariaDbRabbitMqScenarioIT.RabbitCleanup.class)
class MariaDbRabbitMqScenarioIT extends AbstractScenarioIT {

    @BeforeAll
    static void services() {
        TestServices.mysqlUrl();
        TestServices.rabbitMqUri();
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        String suffix = scenarioProperties(registry).get("scenario.suffix");
        registry.add("spring.datasource.url", TestServices::mysqlUrl);
        registry.add("spring.rabbitmq.addresses", TestServices::rabbitMqUri);
        registry.add("outbox.transport", () -> "rabbitmq");
        registry.add("outbox.rabbitmq.exchange", () -> "scenario." + suffix);
        registry.add("outbox.rabbitmq.prefetch", () -> "10");
    }

    /** Deletes the class's queues and exchange: durable, they would outlive the test. */
    @TestConfiguration(proxyBeanMethods = false)
    static class RabbitCleanup {
        @Bean
        BrokerCleanup rabbitCleanup(CachingConnectionFactory connectionFactory) {
            return environment -> {
                String suffix = environment.getRequiredProperty("scenario.suffix");
                try (Connection connection = connectionFactory.createConnection();
                        Channel channel = connection.createChannel(false)) {
                    for (String group : List.of("inventory", "membership", "warehouse", "audit")) {
                        channel.queueDelete(group + "-" + suffix);
                    }
                    channel.exchangeDelete(environment.getRequiredProperty("outbox.rabbitmq.exchange"));
                } catch (IOException | TimeoutException e) {
                    throw new IllegalStateException("Cannot clean up RabbitMQ after the test", e);
                }
            };
        }
    }
}

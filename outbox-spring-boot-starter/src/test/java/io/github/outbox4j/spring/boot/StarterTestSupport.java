package io.github.outbox4j.spring.boot;

import static org.mockito.Mockito.mock;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spring.boot.actuate.OutboxActuatorAutoConfiguration;
import io.github.outbox4j.spring.boot.alert.OutboxAlertAutoConfiguration;
import io.github.outbox4j.spring.boot.metrics.OutboxMetricsAutoConfiguration;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.transaction.PlatformTransactionManager;

/** What the wiring tests share: every facet of the starter, and infrastructure that needs no database or broker. */
final class StarterTestSupport {

    private StarterTestSupport() {}

    static AutoConfigurations outboxAutoConfigurations() {
        return AutoConfigurations.of(
                OutboxAutoConfiguration.class,
                OutboxStorageAutoConfiguration.class,
                OutboxKafkaAutoConfiguration.class,
                OutboxRabbitMqAutoConfiguration.class,
                OutboxAnnotationAutoConfiguration.class,
                OutboxAlertAutoConfiguration.class,
                OutboxActuatorAutoConfiguration.class,
                OutboxMetricsAutoConfiguration.class);
    }

    /** The starter with Jackson and AOP, over {@link Infrastructure}, with the in-memory transport. */
    static ApplicationContextRunner runner() {
        return runner(Infrastructure.class);
    }

    /** The same over other infrastructure: a data source, a transaction manager and a storage. */
    static ApplicationContextRunner runner(Class<?> infrastructure) {
        return new ApplicationContextRunner()
                .withConfiguration(outboxAutoConfigurations())
                .withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class, AopAutoConfiguration.class))
                .withUserConfiguration(infrastructure)
                .withPropertyValues("outbox.transport=in-memory");
    }

    /** A data source nobody connects to, a transaction manager without a resource, a storage in memory. */
    @Configuration(proxyBeanMethods = false)
    @Import(AllButTheDataSource.class)
    static class Infrastructure {
        @Bean
        DataSource dataSource() {
            return mock(DataSource.class);
        }
    }

    /** The infrastructure of {@link Infrastructure} but its data source, for tests that bring their own. */
    @Configuration(proxyBeanMethods = false)
    static class AllButTheDataSource {
        @Bean
        PlatformTransactionManager transactionManager() {
            return new RecordingTransactionManager();
        }

        @Bean
        OutboxStorage outboxStorage() {
            return new FakeOutboxStorage();
        }
    }
}

package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.annotation.Subscribe;
import java.lang.reflect.Method;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.jdbc.autoconfigure.DataSourcePoolMetadataProvidersConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;

@ExtendWith(OutputCaptureExtension.class)
class ConnectionPoolCheckTest {
    private static final String WARNING = "The DataSource's connection pool holds at most";

    private final ApplicationContextRunner runner = StarterTestSupport.runner(HikariInfrastructure.class);

    record OrderPaid(long orderId) {}

    static class Subscribers {
        @Subscribe(topic = "order.paid", group = "inventory", concurrency = "2")
        void inventory(OrderPaid event) {}
    }

    @Configuration(proxyBeanMethods = false)
    static class SubscribersConfig {
        @Bean
        Subscribers subscribers() {
            return new Subscribers();
        }
    }

    /**
     * A HikariCP pool of {@code test.pool-size} connections that nothing connects to (its size is all the check
     * reads), with Spring Boot's pool metadata, as {@code DataSourceAutoConfiguration} imports it.
     */
    @Configuration(proxyBeanMethods = false)
    @Import({StarterTestSupport.AllButTheDataSource.class, DataSourcePoolMetadataProvidersConfiguration.class})
    static class HikariInfrastructure {
        @Bean(destroyMethod = "close")
        DataSource dataSource(Environment environment) {
            HikariDataSource dataSource = new HikariDataSource();
            dataSource.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/never-connected");
            dataSource.setMaximumPoolSize(environment.getRequiredProperty("test.pool-size", Integer.class));
            return dataSource;
        }
    }

    @Test
    void aPoolNoLargerThanWhatTheEngineMayHoldIsWarnedAboutNamingTheParts(CapturedOutput output) {
        runner.withUserConfiguration(SubscribersConfig.class)
                .withPropertyValues("test.pool-size=10")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(output)
                            .contains(WARNING + " 10 connections, and Outbox4j's threads may hold up to 17 at once"
                                    + " (2 dispatcher recorders, 2 outbox retry threads, 2 inbox retry threads,"
                                    + " 2 consumers, 8 handler threads, 1 cleanup)")
                            .contains("spring.datasource.hikari.maximum-pool-size")
                            .contains("outbox.consumer.handler-threads");
                });
    }

    @Test
    void aPoolOfExactlyWhatTheEngineMayHoldLeavesTheApplicationNothingAndIsWarnedAbout(CapturedOutput output) {
        runner.withUserConfiguration(SubscribersConfig.class)
                .withPropertyValues("test.pool-size=17")
                .run(context -> assertThat(output).contains(WARNING + " 17 connections"));
    }

    @Test
    void aPoolLargerThanWhatTheEngineMayHoldIsNotWarnedAbout(CapturedOutput output) {
        runner.withUserConfiguration(SubscribersConfig.class)
                .withPropertyValues("test.pool-size=18")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(output).doesNotContain(WARNING);
                });
    }

    @Test
    void fewerHandlerThreadsMakeTheSamePoolLargeEnough(CapturedOutput output) {
        runner.withUserConfiguration(SubscribersConfig.class)
                .withPropertyValues("test.pool-size=12", "outbox.consumer.handler-threads=2")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(output).doesNotContain(WARNING);
                });
        runner.withUserConfiguration(SubscribersConfig.class)
                .withPropertyValues("test.pool-size=12")
                .run(context -> assertThat(output).contains(WARNING + " 12 connections"));
    }

    @Test
    void aServiceThatOnlyPublishesNeedsNoConnectionsForHandlersOrConsumers(CapturedOutput output) {
        runner.withPropertyValues("test.pool-size=10").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(output).doesNotContain(WARNING);
        });
        runner.withPropertyValues("test.pool-size=6")
                .run(context -> assertThat(output)
                        .contains(WARNING + " 6 connections, and Outbox4j's threads may hold up to 6 at once"
                                + " (2 dispatcher recorders, 2 outbox retry threads, 1 inbox retry threads,"
                                + " 0 consumers, 0 handler threads, 1 cleanup)"));
    }

    @Test
    void aPoolWhoseSizeSpringBootCannotReadIsNotChecked(CapturedOutput output) {
        // the default infrastructure's DataSource is no pool Spring Boot's metadata knows
        StarterTestSupport.runner()
                .withUserConfiguration(SubscribersConfig.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(output).doesNotContain(WARNING);
                });
    }

    @Test
    void theEngineCountsEachPartFromTheSettings() throws NoSuchMethodException {
        OutboxSettings settings = OutboxSettings.builder()
                .dispatcherThreads(3)
                .retryThreads(4)
                .handlerThreads(5)
                .build();
        Method method = Subscribers.class.getDeclaredMethod("inventory", OrderPaid.class);
        SubscribeEndpoint endpoint = new SubscribeEndpoint(
                "inventory", "order.paid", "inventory", 6, new Subscribers(), method, OrderPaid.class, false);

        ConnectionPoolCheck.EngineConnections engine =
                ConnectionPoolCheck.EngineConnections.of(settings, List.of(endpoint, endpoint));

        assertThat(engine).isEqualTo(new ConnectionPoolCheck.EngineConnections(3, 4, 4, 12, 5));
        assertThat(engine.total()).isEqualTo(3 + 4 + 4 + 12 + 5 + 1);
    }
}

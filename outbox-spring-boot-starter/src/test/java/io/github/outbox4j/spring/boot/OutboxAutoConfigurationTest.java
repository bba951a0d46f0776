package io.github.outbox4j.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.OutboxPublisher;
import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.OutboxSerializer;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.spi.TransactionContext;
import io.github.outbox4j.spi.TransactionRunner;
import java.sql.Connection;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

class OutboxAutoConfigurationTest {
    private final ApplicationContextRunner runner = StarterTestSupport.runner();

    @Test
    void configuresAndStartsAnOutboxOverTheApplicationsDataSource() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(Outbox.class);
            assertThat(context).hasSingleBean(OutboxPublisher.class);
            assertThat(context).getBean(TransactionContext.class).isInstanceOf(SpringTransactionContext.class);
            assertThat(context).getBean(TransactionRunner.class).isInstanceOf(SpringTransactionRunner.class);
            assertThat(context).getBean(OutboxTransport.class).isInstanceOf(InMemoryTransport.class);
            assertThat(context.getBean(OutboxLifecycle.class).isRunning()).isTrue();
            FakeOutboxStorage storage = (FakeOutboxStorage) context.getBean(OutboxStorage.class);
            assertThat(storage.initialized)
                    .as("the outbox started on the storage bean")
                    .isTrue();
            assertThat(context.getBean(Outbox.class).storage()).isSameAs(storage);
        });
    }

    @Test
    void bindsTheDefaultsOfDocsConfiguration() {
        runner.run(context -> {
            RetryPolicy retry = context.getBean(RetryPolicy.class);
            assertThat(retry.immediateAttempts()).isEqualTo(3);
            assertThat(retry.firstDelay()).isEqualTo(Duration.ofMinutes(4));
            assertThat(retry.interval()).isEqualTo(Duration.ofMinutes(1));
            assertThat(retry.maxAttempts()).isEqualTo(50);
            OutboxSettings settings = context.getBean(OutboxSettings.class);
            assertThat(settings.shutdownTimeout()).isEqualTo(Duration.ofSeconds(10));
            assertThat(settings.failedRetention()).isEqualTo(Duration.ofDays(15));
            assertThat(settings.handlerThreads()).isEqualTo(8);
            assertThat(settings.maxPayloadSize()).isEqualTo(1024 * 1024);
            StorageOptions storage = context.getBean(StorageOptions.class);
            assertThat(storage.publishedTable()).isEqualTo("msg_published");
            assertThat(storage.receivedTable()).isEqualTo("msg_received");
            assertThat(storage.initializeSchema()).isTrue();
            assertThat(storage.schema()).isEmpty();
        });
    }

    @Test
    void bindsChangedProperties() {
        runner.withPropertyValues(
                        "outbox.retry.first-delay=1s",
                        "outbox.retry.max-attempts=7",
                        "outbox.retry.jitter=0.2",
                        "outbox.dispatcher.threads=5",
                        "outbox.shutdown-timeout=3s",
                        "outbox.storage.published-table=orders_outbox",
                        "outbox.storage.schema=app",
                        "outbox.consumer.handler-threads=2",
                        "outbox.publish.max-payload-size=256KB")
                .run(context -> {
                    assertThat(context.getBean(RetryPolicy.class).firstDelay()).isEqualTo(Duration.ofSeconds(1));
                    assertThat(context.getBean(RetryPolicy.class).maxAttempts()).isEqualTo(7);
                    assertThat(context.getBean(RetryPolicy.class).jitter()).isEqualTo(0.2);
                    assertThat(context.getBean(OutboxSettings.class).dispatcherThreads())
                            .isEqualTo(5);
                    assertThat(context.getBean(OutboxSettings.class).shutdownTimeout())
                            .isEqualTo(Duration.ofSeconds(3));
                    assertThat(context.getBean(OutboxSettings.class).handlerThreads())
                            .isEqualTo(2);
                    assertThat(context.getBean(OutboxSettings.class).maxPayloadSize())
                            .isEqualTo(256 * 1024);
                    assertThat(context.getBean(StorageOptions.class).qualified("orders_outbox"))
                            .isEqualTo("app.orders_outbox");
                });
    }

    @Test
    void noDataSourceMeansNoOutbox() {
        new ApplicationContextRunner()
                .withConfiguration(StarterTestSupport.outboxAutoConfigurations())
                .withPropertyValues("outbox.transport=in-memory")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(Outbox.class);
                    assertThat(context).doesNotHaveBean(OutboxPublisher.class);
                    assertThat(context).doesNotHaveBean(OutboxLifecycle.class);
                    assertThat(context).doesNotHaveBean(SubscribeAnnotationBeanPostProcessor.class);
                });
    }

    @Test
    void outboxEnabledFalseMeansNoOutbox() {
        runner.withPropertyValues("outbox.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(Outbox.class);
            assertThat(context).doesNotHaveBean(OutboxPublisher.class);
            assertThat(context).doesNotHaveBean(OutboxTransport.class);
            assertThat(context).doesNotHaveBean(RetryPolicy.class);
        });
    }

    @Test
    void autoStartupFalseLeavesTheOutboxStopped() {
        runner.withPropertyValues("outbox.auto-startup=false").run(context -> {
            assertThat(context.getBean(OutboxLifecycle.class).isRunning()).isFalse();
            assertThat(((FakeOutboxStorage) context.getBean(OutboxStorage.class)).initialized)
                    .isFalse();
            context.start();
            assertThat(context.getBean(OutboxLifecycle.class).isRunning()).isTrue();
        });
    }

    @Test
    void pausingTheContextLeavesTheOutboxRunningStoppingItIsFinal() {
        runner.run(context -> {
            OutboxLifecycle lifecycle = context.getBean(OutboxLifecycle.class);
            context.getSourceApplicationContext(ConfigurableApplicationContext.class)
                    .pause();
            assertThat(lifecycle.isRunning()).as("not pauseable").isTrue();
            context.getSourceApplicationContext(ConfigurableApplicationContext.class)
                    .restart();
            assertThat(lifecycle.isRunning()).isTrue();
            context.stop();
            assertThat(lifecycle.isRunning()).isFalse();
            assertThatThrownBy(context::start).hasStackTraceContaining("cannot start again");
        });
    }

    @Test
    void beansOfTheApplicationWin() {
        runner.withUserConfiguration(UserBeans.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(RetryPolicy.class)).isSameAs(UserBeans.RETRY);
            assertThat(context.getBean(OutboxSerializer.class)).isSameAs(UserBeans.SERIALIZER);
            assertThat(context.getBean(OutboxTransport.class)).isSameAs(UserBeans.TRANSPORT);
            assertThat(context.getBean(TransactionContext.class)).isSameAs(UserBeans.CONTEXT);
            assertThat(context).getBeans(OutboxTransport.class).hasSize(1);
        });
    }

    @Test
    void aUserOutboxReplacesOurs() {
        runner.withUserConfiguration(UserOutbox.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).getBean(Outbox.class).isSameAs(context.getBean("myOutbox"));
            assertThat(context.getBean(OutboxLifecycle.class).isRunning()).isTrue();
        });
    }

    @Test
    void usesTheApplicationsJsonMapper() {
        runner.withUserConfiguration(IndentingMapper.class).run(context -> {
            String json = context.getBean(OutboxSerializer.class).serialize(Map.of("a", 1));
            assertThat(json).contains("\n");
        });
    }

    @Test
    void anInvalidPropertyFailsTheStartupNamingIt() {
        assertFailsNaming(runner.withPropertyValues("outbox.retry.max-attempts=0"), "outbox.retry.max-attempts");
        assertFailsNaming(runner.withPropertyValues("outbox.retry.jitter=1.5"), "outbox.retry.jitter");
        assertFailsNaming(runner.withPropertyValues("outbox.dispatcher.threads=0"), "outbox.dispatcher.threads");
        assertFailsNaming(
                runner.withPropertyValues("outbox.retry.lease=10s", "outbox.retry.attempt-timeout=30s"),
                "outbox.retry.lease");
        assertFailsNaming(
                runner.withPropertyValues("outbox.storage.published-table=x; drop table y"),
                "outbox.storage.published-table");
        assertFailsNaming(runner.withPropertyValues("outbox.shutdown-timeout=-1s"), "outbox.shutdown-timeout");
        assertFailsNaming(
                runner.withPropertyValues("outbox.publish.max-payload-size=0B"), "outbox.publish.max-payload-size");
    }

    @Test
    void aValueThatDoesNotBindFailsNamingTheKey() {
        runner.withPropertyValues("outbox.retry.max-attempts=many").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).hasStackTraceContaining("outbox.retry.max-attempts");
        });
        runner.withPropertyValues("outbox.transport=carrier-pigeon").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).hasStackTraceContaining("outbox.transport");
        });
    }

    @Test
    void theFailureAnalyzerDescribesTheKeyAndTheFix() {
        runner.withPropertyValues("outbox.retry.max-attempts=0").run(context -> {
            FailureAnalysis analysis = new OutboxConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
            assertThat(analysis).isNotNull();
            assertThat(analysis.getDescription()).contains("outbox.retry.max-attempts", "must be at least 1, was 0");
            assertThat(analysis.getAction()).contains("outbox.retry.max-attempts", "docs/configuration.md");
        });
    }

    @Test
    void bothTransportsOnTheClassPathNeedOutboxTransport() {
        runner.withPropertyValues("outbox.transport=").run(context -> {
            assertThat(context).hasFailed();
            assertThat(rootCause(context)).isInstanceOf(OutboxConfigurationException.class);
            assertThat(((OutboxConfigurationException) rootCause(context)).property())
                    .isEqualTo("outbox.transport");
            assertThat(rootCause(context)).hasMessageContaining("outbox.transport=kafka");
        });
    }

    @Test
    void noTransportOnTheClassPathFailsNamingOutboxTransport() {
        runner.withPropertyValues("outbox.transport=")
                .withClassLoader(new FilteredClassLoader(
                        OutboxAutoConfiguration.KAFKA_TRANSPORT_CLASS,
                        OutboxAutoConfiguration.RABBITMQ_TRANSPORT_CLASS))
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(((OutboxConfigurationException) rootCause(context)).property())
                            .isEqualTo("outbox.transport");
                    assertThat(rootCause(context)).hasMessageContaining("no transport");
                });
    }

    @Test
    void noOutboxBeansWithoutTheCore() {
        runner.withClassLoader(new FilteredClassLoader(Outbox.class)).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(OutboxLifecycle.class);
        });
    }

    static void assertFailsNaming(ApplicationContextRunner runner, String property) {
        runner.run(context -> {
            assertThat(context).as(property).hasFailed();
            assertThat(context.getStartupFailure()).isInstanceOf(BeanCreationException.class);
            Throwable cause = rootCause(context);
            assertThat(cause).as(property).isInstanceOf(OutboxConfigurationException.class);
            assertThat(((OutboxConfigurationException) cause).property()).isEqualTo(property);
            assertThat(cause).hasMessageStartingWith(property + ": ");
        });
    }

    static Throwable rootCause(AssertableApplicationContext context) {
        Throwable failure = context.getStartupFailure();
        while (failure.getCause() != null && failure.getCause() != failure) {
            failure = failure.getCause();
        }
        return failure;
    }

    @Configuration(proxyBeanMethods = false)
    static class UserBeans {
        static final RetryPolicy RETRY = RetryPolicy.builder().maxAttempts(2).build();
        static final OutboxSerializer SERIALIZER = mock(OutboxSerializer.class);
        static final OutboxTransport TRANSPORT = new InMemoryTransport();
        static final TransactionContext CONTEXT = new TransactionContext() {
            @Override
            public Connection currentConnection() {
                throw new UnsupportedOperationException();
            }

            @Override
            public void afterCommit(Runnable action) {}
        };

        @Bean
        RetryPolicy myRetryPolicy() {
            return RETRY;
        }

        @Bean
        OutboxSerializer mySerializer() {
            return SERIALIZER;
        }

        @Bean
        OutboxTransport myTransport() {
            return TRANSPORT;
        }

        @Bean
        TransactionContext myTransactionContext() {
            return CONTEXT;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserOutbox {
        @Bean
        Outbox myOutbox(javax.sql.DataSource dataSource, OutboxStorage storage) {
            return Outbox.builder()
                    .dataSource(dataSource)
                    .storage(storage)
                    .transport(new InMemoryTransport())
                    .build();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class IndentingMapper {
        @Bean
        JsonMapper jsonMapper() {
            return JsonMapper.builder()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .build();
        }
    }
}

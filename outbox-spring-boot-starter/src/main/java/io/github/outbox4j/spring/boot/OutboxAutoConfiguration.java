package io.github.outbox4j.spring.boot;

import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxAlertListener;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.OutboxPublisher;
import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.jackson.JacksonOutboxSerializer;
import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.OutboxSerializer;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.github.outbox4j.spi.TransactionContext;
import io.github.outbox4j.spi.TransactionRunner;
import java.time.Clock;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.metadata.CompositeDataSourcePoolMetadataProvider;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadata;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadataProvider;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.util.ClassUtils;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The core of the starter: one {@link Outbox} over the application's {@link DataSource}, following Spring
 * transactions, serializing with the application's Jackson {@link JsonMapper}, configured by {@link
 * OutboxProperties}, started and stopped with the context by {@link OutboxLifecycle}. The other facets add to it:
 * the storage ({@link OutboxStorageAutoConfiguration}), the transport ({@link OutboxKafkaAutoConfiguration}, {@link
 * OutboxRabbitMqAutoConfiguration}), the annotations ({@link OutboxAnnotationAutoConfiguration}), alerts, actuator and
 * metrics.
 *
 * <p>Active when {@code outbox.enabled} is not {@code false} and the context has one (or one primary) {@code
 * DataSource}. Every bean here backs off when the application defines its own of the same type.
 */
@AutoConfiguration(
        after = {
            DataSourceAutoConfiguration.class,
            DataSourceTransactionManagerAutoConfiguration.class,
            TransactionAutoConfiguration.class,
            JacksonAutoConfiguration.class
        },
        afterName = "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration")
@ConditionalOnClass(Outbox.class)
@ConditionalOnBooleanProperty(name = "outbox.enabled", matchIfMissing = true)
@ConditionalOnSingleCandidate(DataSource.class)
@EnableConfigurationProperties(OutboxProperties.class)
public final class OutboxAutoConfiguration {
    static final String KAFKA_TRANSPORT_CLASS = "io.github.outbox4j.kafka.KafkaOutboxTransport";
    static final String RABBITMQ_TRANSPORT_CLASS = "io.github.outbox4j.rabbitmq.RabbitMqOutboxTransport";
    static final String BOOT_KAFKA_CLASS = "org.springframework.boot.kafka.autoconfigure.KafkaProperties";

    @Bean
    @ConditionalOnMissingBean
    RetryPolicy outboxRetryPolicy(OutboxProperties properties) {
        return properties.toRetryPolicy();
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxSettings outboxSettings(OutboxProperties properties) {
        return properties.toSettings();
    }

    @Bean
    @ConditionalOnMissingBean
    StorageOptions outboxStorageOptions(OutboxProperties properties) {
        return properties.toStorageOptions();
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxSerializer outboxSerializer(
            ObjectProvider<JsonMapper> jsonMapper, ObjectProvider<ObjectMapper> objectMapper) {
        // the application's JSON mapper (Boot's JacksonAutoConfiguration defines one), so that payloads are written
        // with its modules and settings; an ObjectMapper bean declared as such if there is no JsonMapper
        ObjectMapper mapper = jsonMapper.getIfUnique();
        if (mapper == null) {
            mapper = objectMapper.getIfUnique(() -> JsonMapper.builder().build());
        }
        return new JacksonOutboxSerializer(mapper);
    }

    @Bean
    @ConditionalOnMissingBean
    TransactionContext outboxTransactionContext(DataSource dataSource) {
        return new SpringTransactionContext(dataSource);
    }

    @Bean
    @ConditionalOnMissingBean
    TransactionRunner outboxTransactionRunner(
            DataSource dataSource,
            ObjectProvider<PlatformTransactionManager> transactionManager,
            ObjectProvider<Outbox> outbox) {
        PlatformTransactionManager manager = transactionManager.getIfUnique();
        if (manager == null) {
            throw new IllegalStateException("Outbox4j runs @Subscribe handlers in Spring transactions and needs one"
                    + " PlatformTransactionManager for its DataSource; the context has none, or several without a"
                    + " @Primary one");
        }
        return new SpringTransactionRunner(
                dataSource, manager, () -> outbox.getObject().publisher());
    }

    @Bean
    @ConditionalOnMissingBean(OutboxTransport.class)
    @ConditionalOnOutboxTransport(OutboxProperties.Transport.IN_MEMORY)
    InMemoryTransport outboxInMemoryTransport() {
        return new InMemoryTransport();
    }

    /**
     * The outbox, built but not started: {@link OutboxLifecycle} starts it once every {@code @Subscribe} method is
     * known. Closing it on destruction is a safety net for a context that never started it; closing is idempotent.
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    Outbox outbox(
            DataSource dataSource,
            OutboxProperties properties,
            ObjectProvider<OutboxStorage> storage,
            StorageOptions storageOptions,
            ObjectProvider<OutboxTransport> transports,
            OutboxSerializer serializer,
            RetryPolicy retryPolicy,
            OutboxSettings settings,
            TransactionContext transactionContext,
            TransactionRunner transactionRunner,
            ObjectProvider<OutboxObserver> observers,
            ObjectProvider<OutboxAlertListener> alertListeners,
            ObjectProvider<Clock> clock,
            ObjectProvider<TraceContextPropagator> traceContextPropagator,
            ObjectProvider<OutboxBuilderCustomizer> customizers,
            ConfigurableListableBeanFactory beanFactory) {
        Outbox.Builder builder = Outbox.builder()
                .dataSource(dataSource)
                .storageOptions(storageOptions)
                .dialect(properties.storage().dialect())
                .transport(transport(transports, properties, beanFactory.getBeanClassLoader()))
                .serializer(serializer)
                .retryPolicy(retryPolicy)
                .settings(settings)
                .transactionContext(transactionContext)
                .transactionRunner(transactionRunner);
        storage.ifAvailable(builder::storage);
        clock.ifUnique(builder::clock);
        // OutboxTracingAutoConfiguration's Micrometer Tracing one, or the application's
        traceContextPropagator.ifUnique(builder::traceContextPropagator);
        List<OutboxObserver> observerList = observers.orderedStream().toList();
        if (!observerList.isEmpty()) {
            builder.observer(
                    observerList.size() == 1 ? observerList.get(0) : new CompositeOutboxObserver(observerList));
        }
        alertListeners.orderedStream().forEach(builder::alertListener);
        customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
        return builder.build();
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxPublisher outboxPublisher(Outbox outbox) {
        return outbox.publisher();
    }

    @Bean
    OutboxLifecycle outboxLifecycle(
            Outbox outbox,
            OutboxProperties properties,
            OutboxSettings settings,
            DataSource dataSource,
            ObjectProvider<DataSourcePoolMetadataProvider> poolMetadataProviders) {
        ConnectionPoolCheck poolCheck = new ConnectionPoolCheck(settings, () -> {
            DataSourcePoolMetadata pool = new CompositeDataSourcePoolMetadataProvider(
                            poolMetadataProviders.orderedStream().toList())
                    .getDataSourcePoolMetadata(dataSource);
            return pool == null ? null : pool.getMax();
        });
        return new OutboxLifecycle(outbox, properties.autoStartup(), poolCheck);
    }

    private static OutboxTransport transport(
            ObjectProvider<OutboxTransport> transports, OutboxProperties properties, ClassLoader classLoader) {
        List<OutboxTransport> all = transports.orderedStream().toList();
        OutboxTransport transport = transports.getIfUnique();
        if (transport != null) {
            return transport;
        }
        if (all.size() > 1) {
            throw new OutboxConfigurationException(
                    "outbox.transport",
                    "the context has " + all.size() + " OutboxTransport beans ("
                            + all.stream().map(OutboxTransport::name).toList()
                            + "); mark the one the outbox should use @Primary");
        }
        boolean kafka = ClassUtils.isPresent(KAFKA_TRANSPORT_CLASS, classLoader);
        boolean rabbitMq = ClassUtils.isPresent(RABBITMQ_TRANSPORT_CLASS, classLoader);
        if (properties.transport() == null && kafka && rabbitMq) {
            throw new OutboxConfigurationException(
                    "outbox.transport",
                    "both outbox-kafka and outbox-rabbitmq are on the class path; set outbox.transport=kafka or"
                            + " outbox.transport=rabbitmq to choose one");
        }
        boolean wantsKafka =
                properties.transport() == OutboxProperties.Transport.KAFKA || (properties.transport() == null && kafka);
        if (wantsKafka && kafka && !ClassUtils.isPresent(BOOT_KAFKA_CLASS, classLoader)) {
            throw new OutboxConfigurationException(
                    "outbox.transport",
                    "outbox-kafka is on the class path but Spring Boot's Kafka support is not: add"
                            + " spring-boot-starter-kafka, whose spring.kafka.* settings the Kafka transport uses");
        }
        if (properties.transport() != null) {
            throw new OutboxConfigurationException(
                    "outbox.transport",
                    "is " + properties.transport().name().toLowerCase().replace('_', '-') + ", but that transport's"
                            + " module is not on the class path (add outbox-kafka or outbox-rabbitmq) or it was"
                            + " excluded");
        }
        throw new OutboxConfigurationException(
                "outbox.transport",
                "no transport: add outbox-kafka or outbox-rabbitmq to the class path, set outbox.transport=in-memory for"
                        + " a single process, or define an OutboxTransport bean");
    }
}

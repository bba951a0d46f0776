package io.github.outbox4j.spring.boot;

import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.alert.WebhookAlertListener;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.StorageOptions;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Every {@code outbox.*} setting of the starter, bound once at startup. The values are checked by the core
 * builders ({@link RetryPolicy}, {@link OutboxSettings}, {@link StorageOptions}) and the transports' builders when
 * the beans are created: an invalid value fails the startup with an {@link io.github.outbox4j.OutboxConfigurationException}
 * naming its key. Immutable.
 *
 * @param enabled Whether Outbox4j is configured at all; false leaves every outbox bean out.
 * @param autoStartup Whether the outbox starts (and its @Subscribe consumers subscribe) with the application
 *     context; false leaves it to the application, through ConfigurableApplicationContext.start().
 * @param transport Transport to use: kafka or rabbitmq (required when both are on the class path), or in-memory
 *     for a single process without a broker. Unset, the one transport on the class path is used.
 * @param shutdownTimeout How long stopping the outbox waits for the work in flight. What is unfinished then
 *     stays in the tables and is taken up again after a restart.
 * @param publish What publishing accepts.
 * @param retry When failed messages are tried again, on both sides, and how the retry processor polls.
 * @param dispatcher The lanes that send freshly committed messages.
 * @param cleanup How long final rows are kept and how they are deleted.
 * @param alert Alerts about messages whose attempts are exhausted.
 * @param storage The tables.
 * @param consumer Consumers of @Subscribe methods.
 * @param kafka The Kafka transport's own settings; the connection comes from spring.kafka.*.
 * @param rabbitmq The RabbitMQ transport's own settings; the connection comes from spring.rabbitmq.*.
 */
@ConfigurationProperties("outbox")
public record OutboxProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("true") boolean autoStartup,
        @Nullable Transport transport,
        @DefaultValue("10s") Duration shutdownTimeout,
        @DefaultValue Publish publish,
        @DefaultValue Retry retry,
        @DefaultValue Dispatcher dispatcher,
        @DefaultValue Cleanup cleanup,
        @DefaultValue Alert alert,
        @DefaultValue Storage storage,
        @DefaultValue Consumer consumer,
        @DefaultValue Kafka kafka,
        @DefaultValue Rabbitmq rabbitmq) {

    /** The transports the starter can configure by itself. */
    public enum Transport {
        /** {@code outbox-kafka}, connected with {@code spring.kafka.*}. */
        KAFKA,
        /** {@code outbox-rabbitmq}, connected with {@code spring.rabbitmq.*}. */
        RABBITMQ,
        /** {@code InMemoryTransport}: delivery inside this JVM, for tests and single-process applications. */
        IN_MEMORY
    }

    /**
     * Publishing.
     *
     * @param maxPayloadSize Largest payload publish accepts, in bytes of UTF-8 JSON; a larger one throws
     *     PayloadTooLargeException before anything is written. Headers are not counted.
     */
    public record Publish(@DefaultValue("1MB") DataSize maxPayloadSize) {}

    /**
     * The retry policy and the retry processor.
     *
     * @param immediateAttempts Attempts made at once, in process, before the retry processor takes over.
     * @param immediateBackoff Pause between two immediate attempts.
     * @param firstDelay Wait after the immediate attempts; also the wait before a committed row that a process died
     *     before sending is taken over.
     * @param interval Wait between later attempts.
     * @param multiplier Growth of the interval per later attempt (1.0 keeps it constant).
     * @param maxInterval Cap of the growing interval.
     * @param jitter Random spread of each delay, as a fraction in [0, 1): 0.1 means plus or minus 10 %.
     * @param maxAttempts Total attempts; then the row becomes FAILED and an alert is raised.
     * @param pollInterval How often the retry processor looks for due rows.
     * @param batchSize Rows the retry processor claims at once.
     * @param threads Threads per side (published, received) draining a backlog in parallel, each claiming its own
     *     batches; idle, only one polls.
     * @param lease How long a claimed row is left to its claimer before another instance may take it; must exceed
     *     the attempt timeout.
     * @param attemptTimeout An attempt without an answer by then has failed.
     */
    public record Retry(
            @DefaultValue("3") int immediateAttempts,
            @DefaultValue("100ms") Duration immediateBackoff,
            @DefaultValue("4m") Duration firstDelay,
            @DefaultValue("1m") Duration interval,
            @DefaultValue("1.0") double multiplier,
            @DefaultValue("1h") Duration maxInterval,
            @DefaultValue("0.0") double jitter,
            @DefaultValue("50") int maxAttempts,
            @DefaultValue("1s") Duration pollInterval,
            @DefaultValue("1000") int batchSize,
            @DefaultValue("2") int threads,
            @DefaultValue("2m") Duration lease,
            @DefaultValue("30s") Duration attemptTimeout) {}

    /**
     * The dispatcher: lanes sending freshly committed messages.
     *
     * @param threads Lanes sending freshly committed messages; messages with the same key take the same lane.
     * @param queueCapacity Messages waiting in memory at most, over all lanes; beyond, rows wait for the retry
     *     processor.
     * @param batchSize Messages a lane takes from its queue and sends together; their statuses are recorded in one
     *     update.
     */
    public record Dispatcher(
            @DefaultValue("2") int threads,
            @DefaultValue("10000") int queueCapacity,
            @DefaultValue("100") int batchSize) {}

    /**
     * Deletion of final rows.
     *
     * @param succeededRetention How long SUCCEEDED rows are kept.
     * @param failedRetention How long FAILED rows are kept, for a manual requeue.
     * @param interval How often expired rows are deleted.
     * @param batchSize Rows deleted per statement.
     */
    public record Cleanup(
            @DefaultValue("24h") Duration succeededRetention,
            @DefaultValue("15d") Duration failedRetention,
            @DefaultValue("5m") Duration interval,
            @DefaultValue("1000") int batchSize) {}

    /**
     * Alerts about FAILED messages. Every {@link io.github.outbox4j.OutboxAlertListener} bean is told, each alert
     * is logged and published as an {@code OutboxExhaustedEvent}; a webhook and e-mail are optional.
     *
     * @param window At most one alert per topic and consumer group per window; the rest are counted into the next.
     * @param webhook An HTTP endpoint each alert is posted to.
     * @param mail E-mail sent for each alert through the application's JavaMailSender.
     */
    public record Alert(
            @DefaultValue("5m") Duration window,
            @DefaultValue Webhook webhook,
            @DefaultValue Mail mail) {}

    /**
     * The alert webhook: a chat robot (DingTalk, WeCom, Slack) or any HTTP endpoint.
     *
     * @param url Where each alert is posted as JSON; unset, no webhook is called.
     * @param format Shape of the JSON body: json (every field), slack ({"text": ...}) or text-message (DingTalk and
     *     WeCom robots).
     * @param timeout How long connecting and posting may take.
     */
    public record Webhook(
            @Nullable URI url,
            @DefaultValue("json") WebhookAlertListener.Format format,
            @DefaultValue("10s") Duration timeout) {}

    /**
     * Alert e-mail, sent when a {@code JavaMailSender} bean exists (Spring Boot's mail starter and
     * {@code spring.mail.host}) and {@code to} is set.
     *
     * @param to Recipients of alert e-mail; empty, no e-mail is sent.
     * @param from Sender address; unset, the mail server's default.
     * @param subjectPrefix Put before the subject of each alert e-mail.
     */
    public record Mail(
            @DefaultValue List<String> to,
            @Nullable String from,
            @DefaultValue("[Outbox4j]") String subjectPrefix) {}

    /**
     * The tables.
     *
     * @param initializeSchema Whether the tables and indexes are created at start if they are missing.
     * @param schema Schema (PostgreSQL) or database (MySQL) of the tables; empty for the connection's own.
     * @param publishedTable Name of the outbox table.
     * @param receivedTable Name of the inbox table.
     * @param dialect Database dialect: auto detects it from the connection; or postgresql, mysql.
     */
    public record Storage(
            @DefaultValue("true") boolean initializeSchema,
            @DefaultValue("") String schema,

            @DefaultValue(StorageOptions.DEFAULT_PUBLISHED_TABLE)
            String publishedTable,

            @DefaultValue(StorageOptions.DEFAULT_RECEIVED_TABLE)
            String receivedTable,

            @DefaultValue("auto") String dialect) {}

    /**
     * Consumers.
     *
     * @param defaultGroup Consumer group of the @Subscribe methods that name none; empty for the value of
     *     spring.application.name.
     * @param handlerThreads Threads running consumer handlers, over all groups.
     */
    public record Consumer(
            @DefaultValue("") String defaultGroup,
            @DefaultValue("8") int handlerThreads) {}

    /**
     * The Kafka transport's own settings. Where the brokers are and how to reach them (bootstrap servers,
     * security, client properties) comes from Spring Boot's {@code spring.kafka.*}.
     *
     * @param pollTimeout Longest time one consumer poll waits for records.
     * @param redeliveryBackoff How long a consumer waits before the records of a batch the inbox refused (database
     *     down) come again.
     * @param closeTimeout How long closing the transport waits for consumers and in-flight sends.
     * @param createTopics Creation of each topic before its first send or subscription; off unless partitions is set.
     * @param producer Kafka producer settings for the outbox's producer only, over those of
     *     spring.kafka.producer.*.
     * @param consumer Kafka consumer settings for the outbox's consumers only, over those of
     *     spring.kafka.consumer.*.
     */
    public record Kafka(
            @DefaultValue("500ms") Duration pollTimeout,
            @DefaultValue("1s") Duration redeliveryBackoff,
            @DefaultValue("10s") Duration closeTimeout,
            @DefaultValue CreateTopics createTopics,
            @DefaultValue Map<String, String> producer,
            @DefaultValue Map<String, String> consumer) {}

    /**
     * Topics the Kafka transport creates.
     *
     * @param partitions Partitions of each created topic; unset, topics are not created (the broker's
     *     auto.create.topics.enable or the operators create them).
     * @param replicationFactor Replication factor of each created topic.
     */
    public record CreateTopics(
            @Nullable Integer partitions, @DefaultValue("1") int replicationFactor) {}

    /**
     * The RabbitMQ transport's own settings. The connection (host, port, credentials, virtual host, TLS) comes from
     * Spring Boot's {@code spring.rabbitmq.*}.
     *
     * @param exchange Durable topic exchange messages are published to; a message's topic is its routing key.
     * @param queuePrefix Put before each consumer group to name its durable queue.
     * @param queueArguments Arguments of the groups' queues at declaration, e.g. x-queue-type: quorum; whole numbers
     *     and true/false are declared as numbers and booleans, as RabbitMQ expects (x-delivery-limit: 50).
     * @param prefetch Deliveries each consumer may hold unacknowledged, and the most it stores in the inbox in one
     *     transaction (1 to 65535).
     * @param maxInFlightConfirms Sends waiting for their publisher confirm at most.
     * @param confirmTimeout How long a send waits for its publisher confirm before it fails.
     * @param redeliveryBackoff How long a consumer waits before it hands deliveries the inbox could not take over
     *     again.
     * @param recoveryInterval Pause between two reconnection attempts; unset, the connection factory's (5 s).
     * @param connectionName Prefix of the connection names the broker shows (NAME-publisher, NAME-consumer).
     */
    public record Rabbitmq(
            @DefaultValue("outbox.default.router") String exchange,
            @DefaultValue("") String queuePrefix,
            @DefaultValue Map<String, String> queueArguments,
            @DefaultValue("100") int prefetch,
            @DefaultValue("1000") int maxInFlightConfirms,
            @DefaultValue("30s") Duration confirmTimeout,
            @DefaultValue("1s") Duration redeliveryBackoff,
            @Nullable Duration recoveryInterval,
            @DefaultValue("outbox4j") String connectionName) {}

    /** The retry policy these properties describe; its builder validates each value and names its key. */
    public RetryPolicy toRetryPolicy() {
        return RetryPolicy.builder()
                .immediateAttempts(retry.immediateAttempts())
                .immediateBackoff(retry.immediateBackoff())
                .firstDelay(retry.firstDelay())
                .interval(retry.interval())
                .multiplier(retry.multiplier())
                .maxInterval(retry.maxInterval())
                .jitter(retry.jitter())
                .maxAttempts(retry.maxAttempts())
                .build();
    }

    /** The engine settings these properties describe; validated like {@link #toRetryPolicy()}. */
    public OutboxSettings toSettings() {
        return OutboxSettings.builder()
                .dispatcherThreads(dispatcher.threads())
                .dispatcherQueueCapacity(dispatcher.queueCapacity())
                .dispatcherBatchSize(dispatcher.batchSize())
                .pollInterval(retry.pollInterval())
                .claimBatchSize(retry.batchSize())
                .retryThreads(retry.threads())
                .lease(retry.lease())
                .attemptTimeout(retry.attemptTimeout())
                .succeededRetention(cleanup.succeededRetention())
                .failedRetention(cleanup.failedRetention())
                .cleanupInterval(cleanup.interval())
                .cleanupBatchSize(cleanup.batchSize())
                .alertWindow(alert.window())
                .shutdownTimeout(shutdownTimeout)
                .handlerThreads(consumer.handlerThreads())
                .maxPayloadSize(publish.maxPayloadSize().toBytes())
                .build();
    }

    /** The table options these properties describe; validated like {@link #toRetryPolicy()}. */
    public StorageOptions toStorageOptions() {
        return StorageOptions.builder()
                .initializeSchema(storage.initializeSchema())
                .schema(storage.schema())
                .publishedTable(storage.publishedTable())
                .receivedTable(storage.receivedTable())
                .build();
    }
}

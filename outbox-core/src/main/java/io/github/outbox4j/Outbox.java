package io.github.outbox4j;

import io.github.outbox4j.alert.LoggingAlertListener;
import io.github.outbox4j.internal.AlertDispatcher;
import io.github.outbox4j.internal.Cleaner;
import io.github.outbox4j.internal.Dispatcher;
import io.github.outbox4j.internal.HandlerAttempt;
import io.github.outbox4j.internal.Inbox;
import io.github.outbox4j.internal.MessageFactory;
import io.github.outbox4j.internal.MessageIds;
import io.github.outbox4j.internal.MessageProcessor;
import io.github.outbox4j.internal.PublishAttempt;
import io.github.outbox4j.internal.RetryProcessor;
import io.github.outbox4j.internal.Subscribers;
import io.github.outbox4j.internal.ThreadLocalTransactionContext;
import io.github.outbox4j.internal.TransactionalPublisher;
import io.github.outbox4j.jackson.JacksonOutboxSerializer;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.OutboxSerializer;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.OutboxStorageProvider;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.github.outbox4j.spi.TransactionContext;
import io.github.outbox4j.spi.TransactionRunner;
import java.lang.reflect.Type;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plain-Java entry point: one outbox over one database and one transport.
 *
 * <pre>{@code
 * Outbox outbox = Outbox.builder()
 *         .dataSource(dataSource)            // storage picked from the database (PostgreSQL, MySQL, MariaDB)
 *         .transport(transport)
 *         .build();
 * outbox.start();
 * outbox.inTransaction((connection, publisher) -> {
 *     markPaid(connection, orderId);
 *     return publisher.publish("order.paid", new OrderPaid(orderId));
 * });
 * outbox.close();
 * }</pre>
 *
 * <p>Thread-safe. {@link #start()} initializes the tables and starts a few named daemon threads ({@code
 * outbox-dispatcher-*}, {@code outbox-retry-*}, {@code outbox-cleanup-*}); {@link #close()} stops them,
 * waiting at most {@code outbox.shutdown-timeout} for work in flight. Whatever is unfinished then stays
 * committed in the table and is taken up again after a restart.
 */
public final class Outbox implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Outbox.class);
    private static final AtomicInteger HANDLER_THREADS = new AtomicInteger();
    /**
     * Received messages stored and not yet handled, per handler thread, beyond which a consumer waits: enough for
     * a Kafka poll (500 records) with the default 8 threads, and a bound on the memory they hold.
     */
    private static final int MESSAGES_IN_HANDLING_PER_THREAD = 64;

    private enum State {
        NEW,
        STARTED,
        CLOSED
    }

    private final DataSource dataSource;
    private final OutboxStorage storage;
    private final OutboxTransport transport;
    private final OutboxSettings settings;
    private final RetryPolicy retryPolicy;
    private final Clock clock;
    private final TransactionContext transactionContext;
    private final ThreadLocalTransactionContext localTransactions = new ThreadLocalTransactionContext();
    private final MessageFactory messageFactory;
    private final AlertDispatcher alerts;
    private final ScheduledExecutorService retryTimer;
    private final Dispatcher dispatcher;
    private final RetryProcessor retryProcessor;
    private final Subscribers subscribers = new Subscribers();
    private final ExecutorService handlerExecutor;
    private final Inbox inbox;
    private final RetryProcessor receiveRetryProcessor;
    private final Cleaner cleaner;
    private final OutboxPublisher publisher;
    private final OutboxObserver observer;
    private State state = State.NEW;

    private Outbox(Builder builder) {
        this.dataSource = builder.dataSource;
        this.storage = builder.storage;
        this.transport = builder.transport;
        this.settings = builder.settings;
        this.retryPolicy = builder.retryPolicy;
        this.clock = builder.clock;
        this.observer = builder.observer;
        this.transactionContext = builder.transactionContext != null ? builder.transactionContext : localTransactions;
        this.messageFactory = new MessageFactory(
                new MessageIds(clock),
                builder.serializer,
                clock,
                retryPolicy.firstDelay(),
                builder.tracing,
                settings.maxPayloadSize());
        List<OutboxAlertListener> listeners =
                builder.alertListeners.isEmpty() ? List.of(new LoggingAlertListener()) : builder.alertListeners;
        this.alerts = new AlertDispatcher(listeners, settings.alertWindow(), clock);
        this.retryTimer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "outbox-retry-timer");
            thread.setDaemon(true);
            return thread;
        });
        MessageProcessor sender = new MessageProcessor(
                MessageKind.PUBLISHED,
                storage,
                retryPolicy,
                new PublishAttempt(transport, clock),
                alerts,
                clock,
                retryTimer,
                settings.attemptTimeout(),
                settings.succeededRetention(),
                settings.failedRetention(),
                builder.observer);
        this.dispatcher = new Dispatcher(
                sender,
                settings.dispatcherThreads(),
                settings.dispatcherQueueCapacity(),
                settings.dispatcherBatchSize(),
                clock);
        this.retryProcessor = new RetryProcessor(
                storage,
                sender,
                clock,
                settings.pollInterval(),
                settings.lease(),
                settings.claimBatchSize(),
                settings.retryThreads(),
                alerts::flush);
        this.handlerExecutor = Executors.newFixedThreadPool(settings.handlerThreads(), runnable -> {
            Thread thread = new Thread(runnable, "outbox-handler-" + HANDLER_THREADS.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        TransactionRunner transactions =
                builder.transactionRunner != null ? builder.transactionRunner : this::inTransaction;
        MessageProcessor receiver = new MessageProcessor(
                MessageKind.RECEIVED,
                storage,
                retryPolicy,
                new HandlerAttempt(
                        subscribers,
                        builder.serializer,
                        storage,
                        transactions,
                        handlerExecutor,
                        clock,
                        settings.succeededRetention(),
                        builder.tracing),
                alerts,
                clock,
                retryTimer,
                settings.attemptTimeout(),
                settings.succeededRetention(),
                settings.failedRetention(),
                builder.observer);
        this.inbox = new Inbox(
                storage,
                subscribers,
                receiver,
                alerts,
                clock,
                retryPolicy.firstDelay(),
                settings.failedRetention(),
                builder.observer,
                settings.handlerThreads() * MESSAGES_IN_HANDLING_PER_THREAD);
        this.receiveRetryProcessor = new RetryProcessor(
                storage,
                receiver,
                clock,
                settings.pollInterval(),
                settings.lease(),
                settings.claimBatchSize(),
                settings.retryThreads(),
                alerts::flush);
        this.cleaner = new Cleaner(storage, clock, settings.cleanupInterval(), settings.cleanupBatchSize());
        this.publisher = new TransactionalPublisher(transactionContext, messageFactory, storage, dispatcher, observer);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Registers {@code handler} for {@code topic} in consumer group {@code group}: each message is read from
     * JSON as {@code payloadType} (a class, or a generic type) and handled once per group. Register every
     * handler before {@link #start()}, which subscribes the groups on the transport.
     */
    public <T> Outbox subscribe(String topic, String group, Type payloadType, MessageHandler<? super T> handler) {
        return subscribe(topic, group, payloadType, 1, handler);
    }

    /** The same, with {@code concurrency} consumers for the group (the highest of its handlers counts). */
    public synchronized <T> Outbox subscribe(
            String topic, String group, Type payloadType, int concurrency, MessageHandler<? super T> handler) {
        if (state != State.NEW) {
            throw new IllegalStateException("Subscribe before start(): the transport subscribes every group then");
        }
        subscribers.add(topic, group, payloadType, concurrency, handler);
        return this;
    }

    /** Creates the tables if configured, connects the transport and starts the background threads. */
    public synchronized void start() {
        if (state != State.NEW) {
            throw new IllegalStateException(
                    "The outbox was already " + state.name().toLowerCase());
        }
        storage.initialize();
        transport.start();
        dispatcher.start();
        retryProcessor.start();
        if (!subscribers.isEmpty()) {
            receiveRetryProcessor.start();
            for (Subscription subscription : subscribers.subscriptions()) {
                transport.subscribe(subscription, inbox);
            }
        }
        cleaner.start();
        state = State.STARTED;
        log.info(
                "Outbox started: storage {}, transport {}, {}",
                storage.getClass().getSimpleName(),
                transport.name(),
                retryPolicy);
    }

    /**
     * The publisher for the caller's current transaction: the one of {@link #inTransaction}, or the one the
     * configured {@link TransactionContext} finds (the Spring starter's follows Spring transactions).
     */
    public OutboxPublisher publisher() {
        return publisher;
    }

    /** A publisher writing through {@code connection}, whose transaction the caller runs. */
    public ConnectionPublisher publisher(Connection connection) {
        return new ConnectionPublisher(connection, messageFactory, storage, dispatcher, observer);
    }

    /**
     * Runs {@code work} in one local transaction on a connection of the data source: commits it if the work
     * returns, then sends what it published; rolls it back if the work throws, and sends nothing. Called
     * inside another {@code inTransaction} on the same thread, it joins that transaction.
     *
     * @throws OutboxException wrapping an {@link SQLException} of the work or the commit; runtime exceptions
     *     of the work are rethrown as they are
     */
    public <T> T inTransaction(TransactionalWork<T> work) {
        Objects.requireNonNull(work, "work");
        ThreadLocalTransactionContext.Scope outer = localTransactions.currentScope();
        if (outer != null) {
            try {
                return work.execute(outer.connection(), publisher(localTransactions));
            } catch (SQLException e) {
                throw new OutboxException("Transactional work failed: " + e.getMessage(), e);
            }
        }
        try (Connection connection = dataSource.getConnection()) {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            ThreadLocalTransactionContext.Scope scope = localTransactions.bind(connection);
            try {
                T result = work.execute(connection, publisher(localTransactions));
                connection.commit();
                localTransactions.unbind();
                scope.committed();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    connection.rollback();
                } catch (SQLException rollbackError) {
                    e.addSuppressed(rollbackError);
                }
                throw e;
            } finally {
                localTransactions.unbind();
                restoreAutoCommit(connection, autoCommit);
            }
        } catch (SQLException e) {
            throw new OutboxException("Transactional work failed: " + e.getMessage(), e);
        }
    }

    private static void restoreAutoCommit(Connection connection, boolean autoCommit) {
        try {
            connection.setAutoCommit(autoCommit);
        } catch (SQLException ignored) {
            // a broken connection: the pool discards it
        }
    }

    private OutboxPublisher publisher(ThreadLocalTransactionContext context) {
        return context == transactionContext
                ? publisher
                : new TransactionalPublisher(context, messageFactory, storage, dispatcher, observer);
    }

    /**
     * Runs the retry processor once, now, in the calling thread: claims and processes every row due at the
     * clock's current time. The background thread does the same every {@code outbox.retry.poll-interval};
     * this is for operations and tests that move the clock.
     *
     * @return how many rows were processed
     */
    public int processDue() {
        int processed = retryProcessor.poll() + receiveRetryProcessor.poll();
        alerts.flush();
        return processed;
    }

    /** Deletes expired SUCCEEDED and FAILED rows now, in the calling thread; returns how many. */
    public int purgeExpired() {
        return cleaner.run();
    }

    /** The storage, for reading rows (operations, tests). */
    public OutboxStorage storage() {
        return storage;
    }

    /** Stops the threads (bounded by {@code outbox.shutdown-timeout}) and closes the transport. Idempotent. */
    @Override
    public synchronized void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        // background work first, while the transport can still send; then the transport, which stops its
        // consumers; then the handling of what they stored; the timer and handler threads last
        retryProcessor.close(settings.shutdownTimeout());
        receiveRetryProcessor.close(settings.shutdownTimeout());
        dispatcher.close(settings.shutdownTimeout());
        cleaner.close();
        try {
            transport.close();
        } catch (RuntimeException e) {
            log.warn("Closing transport {} failed", transport.name(), e);
        }
        if (!inbox.awaitHandled(settings.shutdownTimeout())) {
            log.warn("Closing while received messages are still being handled; the retry processor handles them"
                    + " after outbox.retry.first-delay");
        }
        retryTimer.shutdownNow();
        handlerExecutor.shutdownNow();
        log.info("Outbox closed");
    }

    /** Builds an {@link Outbox}. Not thread-safe. */
    public static final class Builder {
        private DataSource dataSource;
        private OutboxStorage storage;
        private StorageOptions storageOptions = StorageOptions.defaults();
        private String dialect = "auto";
        private OutboxTransport transport;
        private OutboxSerializer serializer = new JacksonOutboxSerializer();
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private OutboxSettings settings = OutboxSettings.defaults();
        private Clock clock = Clock.systemUTC();
        private TransactionContext transactionContext;
        private TransactionRunner transactionRunner;
        private OutboxObserver observer = OutboxObserver.NONE;
        private TraceContextPropagator tracing = TraceContextPropagator.NONE;
        private final List<OutboxAlertListener> alertListeners = new ArrayList<>();

        private Builder() {}

        /** The database of the business data and of the outbox tables. Required. */
        public Builder dataSource(DataSource dataSource) {
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
            return this;
        }

        /** The storage; by default the one whose module is on the class path and supports the database. */
        public Builder storage(OutboxStorage storage) {
            this.storage = Objects.requireNonNull(storage, "storage");
            return this;
        }

        /** Table names, schema and initialization for the detected storage. */
        public Builder storageOptions(StorageOptions storageOptions) {
            this.storageOptions = Objects.requireNonNull(storageOptions, "storageOptions");
            return this;
        }

        /** {@code outbox.storage.dialect}: {@code auto} (default) or a storage's dialect name. */
        public Builder dialect(String dialect) {
            this.dialect = Objects.requireNonNull(dialect, "dialect");
            return this;
        }

        /** The broker. Required. */
        public Builder transport(OutboxTransport transport) {
            this.transport = Objects.requireNonNull(transport, "transport");
            return this;
        }

        public Builder serializer(OutboxSerializer serializer) {
            this.serializer = Objects.requireNonNull(serializer, "serializer");
            return this;
        }

        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
            return this;
        }

        public Builder settings(OutboxSettings settings) {
            this.settings = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /** The clock every engine time comes from. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How {@link Outbox#publisher()} finds the caller's transaction; the Spring starter sets its own. */
        public Builder transactionContext(TransactionContext transactionContext) {
            this.transactionContext = Objects.requireNonNull(transactionContext, "transactionContext");
            return this;
        }

        /** How consumer handlers get their transaction; by default {@link Outbox#inTransaction}. */
        public Builder transactionRunner(TransactionRunner transactionRunner) {
            this.transactionRunner = Objects.requireNonNull(transactionRunner, "transactionRunner");
            return this;
        }

        /** Told what happens to messages, for metrics; by default nobody is. */
        public Builder observer(OutboxObserver observer) {
            this.observer = Objects.requireNonNull(observer, "observer");
            return this;
        }

        /** Carries trace context from publishers to handlers; by default none is carried. */
        public Builder traceContextPropagator(TraceContextPropagator tracing) {
            this.tracing = Objects.requireNonNull(tracing, "tracing");
            return this;
        }

        /** Adds a listener for exhausted messages. Without any, alerts are logged. */
        public Builder alertListener(OutboxAlertListener listener) {
            this.alertListeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Builds the outbox; detects the storage if none was given.
         *
         * @throws OutboxConfigurationException naming the setting that is missing or wrong
         */
        public Outbox build() {
            if (dataSource == null) {
                throw new OutboxConfigurationException("outbox.data-source", "a DataSource is required");
            }
            if (transport == null) {
                throw new OutboxConfigurationException(
                        "outbox.transport", "a transport is required (Kafka, RabbitMQ or InMemoryTransport)");
            }
            requireLeaseCoversTheImmediateAttempts();
            if (storage == null) {
                storage = detectStorage();
            }
            return new Outbox(this);
        }

        /**
         * A claimed row that was never attempted gets all its immediate attempts in one claim: the lease must
         * outlast them, or another instance could take the row while this one still sends it.
         */
        private void requireLeaseCoversTheImmediateAttempts() {
            int attempts = retryPolicy.immediateAttempts();
            Duration longestClaim = settings.attemptTimeout()
                    .multipliedBy(attempts)
                    .plus(retryPolicy.immediateBackoff().multipliedBy(attempts - 1L));
            if (settings.lease().compareTo(longestClaim) <= 0) {
                throw new OutboxConfigurationException(
                        "outbox.retry.lease",
                        "must be longer than the immediate attempts of one claim can take (outbox.retry.immediate-attempts"
                                + " " + attempts + " x outbox.retry.attempt-timeout " + settings.attemptTimeout()
                                + " + backoffs = " + longestClaim + "), was " + settings.lease());
            }
        }

        private OutboxStorage detectStorage() {
            return OutboxStorageProvider.detect(dataSource, storageOptions, dialect);
        }
    }
}

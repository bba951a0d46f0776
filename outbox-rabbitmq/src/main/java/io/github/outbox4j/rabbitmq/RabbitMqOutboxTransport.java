package io.github.outbox4j.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.ShutdownSignalException;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.PermanentFailureException;
import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries outbox messages over RabbitMQ with the plain AMQP 0-9-1 Java client (DESIGN.md §6).
 *
 * <p><b>Topology.</b> A durable topic exchange ({@value #DEFAULT_EXCHANGE} unless configured), declared at
 * {@link #start()}; a message's topic is its routing key. Each consumer group has one durable queue, named
 * {@link #queueName(String) queue prefix + group}, bound to the exchange with each topic it subscribes to as
 * binding key (so {@code *} and {@code #} work as topic wildcards), and declared with the {@link
 * Builder#queueArguments queue arguments} (a quorum queue, for instance). Declarations are idempotent.
 *
 * <p><b>Sending.</b> Persistent messages ({@code delivery-mode 2}), {@code content-type application/json},
 * {@code message-id} = the message id, every {@link TransportMessage#headers() header} as an AMQP header,
 * {@code mandatory=true}. {@link #send} returns at once (it blocks only while {@code max-in-flight-confirms}
 * sends are already waiting, at most 5 s); its stage completes when the
 * broker confirms the message, and fails when the broker nacks it, returns it because no queue is bound for its
 * routing key, closes the channel or connection before confirming it, or has not confirmed it within the
 * confirm timeout. While the connection is down, sends fail at once. Confirms are pipelined on one publishing
 * channel, under a lock. Stages complete on the client's I/O thread: continuations must not block.
 *
 * <p><b>Receiving.</b> {@link #subscribe} runs {@link Subscription#concurrency()} consumers (channels) on a
 * second connection, with {@code basicQos(prefetch)} and manual acks. Each consumer hands the deliveries it
 * holds to the {@link InboundListener} in order, in batches of up to {@code prefetch}: one call, so one inbox
 * transaction, per batch, made off the client's dispatch thread. A batch is acked (one multiple ack) only
 * after the listener returned; if it threw, the same batch is handed over again after each redelivery backoff
 * (not requeued, which a queue's delivery limit would count), and nacked with requeue only if the transport closes
 * first. A delivery's id is its {@code outbox-msg-id} header, else its AMQP {@code message-id} (if at most 36
 * characters), else {@code rabbitmq:} and 27 base64url characters of the SHA-256 of its queue, routing key,
 * headers (but {@code x-*}) and body: stable across redeliveries, 36 characters like every stored id.
 *
 * <p><b>Recovery.</b> Both connections use the client's automatic connection and topology recovery: after a
 * dropped connection or a broker restart, consumers resume and publishing works again by themselves.
 *
 * <p>Thread-safe. Owns two connections and a few daemon threads named {@code outbox-rabbitmq-*}, all released
 * by {@link #close()}.
 */
public final class RabbitMqOutboxTransport implements OutboxTransport {
    /** Default of {@code outbox.rabbitmq.exchange}. */
    public static final String DEFAULT_EXCHANGE = "outbox.default.router";
    /** Default of {@code outbox.rabbitmq.queue-prefix}: queues are named after their group. */
    public static final String DEFAULT_QUEUE_PREFIX = "";
    /** Default of {@code outbox.rabbitmq.prefetch}. */
    public static final int DEFAULT_PREFETCH = 100;
    /** Default of {@code outbox.rabbitmq.max-in-flight-confirms}. */
    public static final int DEFAULT_MAX_IN_FLIGHT_CONFIRMS = 1000;
    /** Default of {@code outbox.rabbitmq.confirm-timeout}. */
    public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);
    /** Default of {@code outbox.rabbitmq.redelivery-backoff}. */
    public static final Duration DEFAULT_REDELIVERY_BACKOFF = Duration.ofSeconds(1);
    /** Default of {@code outbox.rabbitmq.connection-name}. */
    public static final String DEFAULT_CONNECTION_NAME = "outbox4j";

    static final String QUEUE_TYPE_ARGUMENT = "x-queue-type";
    static final List<String> QUEUE_TYPES = List.of("classic", "quorum");
    private static final Pattern WHOLE_NUMBER = Pattern.compile("[-+]?\\d+");

    static final int BACKPRESSURE_WAIT_SECONDS = 5;
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(RabbitMqOutboxTransport.class);

    private enum State {
        NEW,
        STARTED,
        CLOSED
    }

    private final ConnectionFactory factory;
    private final String exchange;
    private final String queuePrefix;
    private final Map<String, Object> queueArguments;
    private final int prefetch;
    private final int maxInFlightConfirms;
    private final Duration confirmTimeout;
    private final Duration redeliveryBackoff;
    private final String connectionName;

    private final Semaphore confirmPermits;
    private final ReentrantLock publishLock = new ReentrantLock();
    private final Object lifecycleLock = new Object();
    private final CountDownLatch closing = new CountDownLatch(1);
    private final Map<String, GroupConsumer> groups = new ConcurrentHashMap<>();

    private volatile State state = State.NEW;
    private volatile String blockedBecause;
    // guarded by lifecycleLock
    private ScheduledExecutorService timer;
    private ExecutorService publisherThreads;
    private ExecutorService consumerThreads;
    private Connection publisherConnection;
    private Connection consumerConnection;
    // guarded by publishLock
    private volatile ConfirmChannel confirms;

    private RabbitMqOutboxTransport(Builder builder, ConnectionFactory factory) {
        this.factory = factory;
        this.exchange = builder.exchange;
        this.queuePrefix = builder.queuePrefix;
        this.queueArguments = builder.queueArguments;
        this.prefetch = builder.prefetch;
        this.maxInFlightConfirms = builder.maxInFlightConfirms;
        this.confirmTimeout = builder.confirmTimeout;
        this.redeliveryBackoff = builder.redeliveryBackoff;
        this.connectionName = builder.connectionName;
        this.confirmPermits = new Semaphore(builder.maxInFlightConfirms);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return "rabbitmq";
    }

    /** The exchange messages are published to. */
    public String exchange() {
        return exchange;
    }

    /** The arguments the groups' queues are declared with; empty by default. */
    public Map<String, Object> queueArguments() {
        return queueArguments;
    }

    /** The queue of a consumer group: the queue prefix followed by the group. */
    public String queueName(String group) {
        Objects.requireNonNull(group, "group");
        String queue = queuePrefix + group;
        if (group.isBlank()) {
            throw new IllegalArgumentException("a consumer group must not be blank");
        }
        if (queue.getBytes(StandardCharsets.UTF_8).length > 255) {
            throw new IllegalArgumentException(
                    "queue name '" + queue + "' of group '" + group + "' is longer than RabbitMQ's 255 bytes");
        }
        if (queue.startsWith("amq.")) {
            throw new IllegalArgumentException(
                    "queue name '" + queue + "' of group '" + group + "' starts with 'amq.', which RabbitMQ reserves");
        }
        return queue;
    }

    /**
     * Opens the publishing connection and declares the exchange.
     *
     * @throws OutboxException if the broker cannot be reached or refuses the declaration
     */
    @Override
    public void start() {
        synchronized (lifecycleLock) {
            if (state != State.NEW) {
                if (state == State.CLOSED) {
                    throw new IllegalStateException("the RabbitMQ transport is closed");
                }
                return;
            }
            timer = Executors.newSingleThreadScheduledExecutor(new DaemonThreadFactory("timer"));
            publisherThreads = Executors.newCachedThreadPool(new DaemonThreadFactory("publisher"));
            try {
                publisherConnection = factory.newConnection(publisherThreads, connectionName + "-publisher");
                publisherConnection.addBlockedListener(new BlockedListener() {
                    @Override
                    public void handleBlocked(String reason) {
                        blockedBecause = reason;
                        log.warn("RabbitMQ blocks publishing (resource alarm): {}; sends fail until it lifts", reason);
                    }

                    @Override
                    public void handleUnblocked() {
                        blockedBecause = null;
                        log.info("RabbitMQ unblocked publishing");
                    }
                });
                // a connection lost while blocked never hears it was unblocked: its successor starts unblocked
                publisherConnection.addShutdownListener(cause -> blockedBecause = null);
                logRecovery(publisherConnection);
                publishLock.lock();
                try {
                    confirms = ConfirmChannel.open(publisherConnection, exchange);
                } finally {
                    publishLock.unlock();
                }
            } catch (IOException | TimeoutException | RuntimeException e) {
                releaseResources();
                throw new OutboxException(
                        "Cannot start the RabbitMQ transport on " + describeBroker() + ": " + reasonOf(e), e);
            }
            long period = Math.max(100, Math.min(1000, confirmTimeout.toMillis() / 4));
            timer.scheduleAtFixedRate(this::expireConfirms, period, period, TimeUnit.MILLISECONDS);
            state = State.STARTED;
            log.info("RabbitMQ transport started on {}, exchange '{}'", describeBroker(), exchange);
        }
    }

    @Override
    public CompletionStage<Void> send(TransportMessage message) {
        Objects.requireNonNull(message, "message");
        if (message.topic().getBytes(StandardCharsets.UTF_8).length > 255) {
            return CompletableFuture.failedFuture(
                    new PermanentFailureException("topic '" + message.topic() + "' of message " + message.id()
                            + " is longer than 255 bytes, the limit of a RabbitMQ routing key"));
        }
        if (state != State.STARTED) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    state == State.NEW ? "the RabbitMQ transport is not started" : "the RabbitMQ transport is closed"));
        }
        String blocked = blockedBecause;
        if (blocked != null) {
            return CompletableFuture.failedFuture(
                    new OutboxException("RabbitMQ blocks publishing (resource alarm): " + blocked));
        }
        try {
            if (!confirmPermits.tryAcquire(BACKPRESSURE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                return CompletableFuture.failedFuture(new OutboxException(maxInFlightConfirms
                        + " sends (outbox.rabbitmq.max-in-flight-confirms) have waited for their confirms for "
                        + BACKPRESSURE_WAIT_SECONDS + " s; message " + message.id() + " not sent"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(
                    new OutboxException("interrupted before sending message " + message.id(), e));
        }
        publishLock.lock();
        try {
            ConfirmChannel channel = usableConfirmChannel();
            return channel.publish(message, InboundMessages.toProperties(message), confirmPermits::release);
        } catch (RuntimeException e) {
            confirmPermits.release();
            return CompletableFuture.failedFuture(e);
        } finally {
            publishLock.unlock();
        }
    }

    /** The publishing channel, replacing a dead one; fails at once while the connection is down. */
    private ConfirmChannel usableConfirmChannel() {
        if (state != State.STARTED) {
            throw new IllegalStateException("the RabbitMQ transport is closed");
        }
        ConfirmChannel current = confirms;
        if (current != null && current.usable()) {
            return current;
        }
        if (!publisherConnection.isOpen()) {
            throw new OutboxException("RabbitMQ connection to " + describeBroker()
                    + " is down; automatic recovery is reconnecting, the message was not sent");
        }
        if (current != null) {
            // only now that the connection is up: the client's topology recovery replays the exchange
            // declaration on the channel that made it, so that channel must live until a new one declares
            current.abort();
            confirms = null;
        }
        try {
            confirms = ConfirmChannel.open(publisherConnection, exchange);
        } catch (IOException | RuntimeException e) {
            throw new OutboxException(
                    "Cannot open a publishing channel on " + describeBroker() + ": " + reasonOf(e), e);
        }
        log.info("Publishing on a new channel of {}", describeBroker());
        return confirms;
    }

    private void expireConfirms() {
        try {
            ConfirmChannel current = confirms; // a dead channel failed its sends when it closed
            if (current != null) {
                current.expireSentBefore(
                        System.nanoTime() - confirmTimeout.toNanos(),
                        confirmTimeout + " (outbox.rabbitmq.confirm-timeout)");
            }
        } catch (RuntimeException e) {
            log.warn("Expiring unconfirmed sends failed", e);
        }
    }

    /**
     * Declares the group's queue and its bindings, and starts its consumers.
     *
     * @throws IllegalStateException if the transport is not started, or the group is already subscribed
     * @throws OutboxException if the broker cannot be reached or refuses the declarations
     */
    @Override
    public void subscribe(Subscription subscription, InboundListener listener) {
        Objects.requireNonNull(subscription, "subscription");
        Objects.requireNonNull(listener, "listener");
        String queue = queueName(subscription.group());
        synchronized (lifecycleLock) {
            if (state != State.STARTED) {
                throw new IllegalStateException(
                        state == State.NEW
                                ? "start the RabbitMQ transport before subscribing"
                                : "the RabbitMQ transport is closed");
            }
            if (groups.containsKey(subscription.group())) {
                throw new IllegalStateException("group '" + subscription.group() + "' is already subscribed");
            }
            Connection connection = consumerConnection(); // creates consumerThreads too
            GroupConsumer consumer = new GroupConsumer(
                    subscription,
                    queue,
                    queueArguments,
                    exchange,
                    prefetch,
                    redeliveryBackoff,
                    listener,
                    connection,
                    consumerThreads,
                    timer,
                    closing);
            try {
                consumer.start();
            } catch (IOException | RuntimeException e) {
                throw new OutboxException(
                        "Cannot consume group '" + subscription.group() + "' from queue '" + queue + "' on "
                                + describeBroker() + ": " + reasonOf(e),
                        e);
            }
            groups.put(subscription.group(), consumer);
        }
    }

    private Connection consumerConnection() {
        if (consumerConnection == null) {
            if (consumerThreads == null) {
                consumerThreads = Executors.newCachedThreadPool(new DaemonThreadFactory("consumer"));
            }
            try {
                consumerConnection = factory.newConnection(consumerThreads, connectionName + "-consumer");
            } catch (IOException | TimeoutException e) {
                throw new OutboxException(
                        "Cannot connect to RabbitMQ at " + describeBroker() + " to consume: " + reasonOf(e), e);
            }
            logRecovery(consumerConnection);
        }
        return consumerConnection;
    }

    /**
     * Cancels the consumers and lets the deliveries they took (buffered or being handled) finish, waits for
     * outstanding confirms, then closes the channels and connections; all of it within 5 seconds. Sends not
     * confirmed by then fail. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lifecycleLock) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            closing.countDown();
            long deadline = System.nanoTime() + CLOSE_TIMEOUT.toNanos();
            groups.values().forEach(GroupConsumer::cancel);
            for (GroupConsumer group : groups.values()) {
                if (!group.awaitIdle(deadline)) {
                    log.warn("Closing RabbitMQ consumers while a delivery is still being handled; it will be"
                            + " redelivered");
                    break;
                }
            }
            publishLock.lock();
            try {
                if (confirms != null) {
                    confirms.drain(deadline, "the RabbitMQ transport closed");
                }
            } finally {
                publishLock.unlock();
            }
            releaseResources();
            log.info("RabbitMQ transport closed");
        }
    }

    private void releaseResources() {
        closeConnection(consumerConnection);
        closeConnection(publisherConnection);
        for (ExecutorService executor : new ExecutorService[] {timer, consumerThreads, publisherThreads}) {
            if (executor != null) {
                executor.shutdownNow();
            }
        }
    }

    private void closeConnection(Connection connection) {
        if (connection == null) {
            return;
        }
        int timeout = (int) CLOSE_TIMEOUT.toMillis();
        try {
            connection.close(timeout);
        } catch (IOException | RuntimeException e) {
            // already closed, or down and recovering: abort stops the recovery too
            log.debug("Closing {} failed, aborting it", connection.getClientProvidedName(), e);
            connection.abort(timeout);
        }
    }

    private void logRecovery(Connection connection) {
        if (connection instanceof Recoverable recoverable) {
            recoverable.addRecoveryListener(new RecoveryListener() {
                @Override
                public void handleRecovery(Recoverable recovered) {
                    log.info("RabbitMQ connection {} recovered", connection.getClientProvidedName());
                }

                @Override
                public void handleRecoveryStarted(Recoverable recovering) {
                    log.info("RabbitMQ connection {} lost; recovering", connection.getClientProvidedName());
                }
            });
        }
    }

    private String describeBroker() {
        return factory.getHost() + ":" + factory.getPort() + factory.getVirtualHost();
    }

    /** Outstanding publisher confirms, for tests. */
    int outstandingConfirms() {
        publishLock.lock();
        try {
            return confirms == null ? 0 : confirms.outstanding();
        } finally {
            publishLock.unlock();
        }
    }

    /**
     * What went wrong, in the broker's words where it gave any: the client's {@code IOException} for a refused
     * declaration has no message of its own, only a cause that carries the broker's reply (e.g. {@code
     * PRECONDITION_FAILED - inequivalent arg 'x-queue-type' ...}).
     */
    static String reasonOf(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException shutdown) {
                if (shutdown.getReason() instanceof AMQP.Channel.Close close) {
                    return close.getReplyText();
                }
                if (shutdown.getReason() instanceof AMQP.Connection.Close close) {
                    return close.getReplyText();
                }
                return shutdown.getMessage();
            }
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /**
     * Builds a {@link RabbitMqOutboxTransport}. Each setter validates its value and names its
     * {@code outbox.rabbitmq.*} property when it is invalid. Not thread-safe.
     */
    public static final class Builder {
        private String uri;
        private ConnectionFactory connectionFactory;
        private String exchange = DEFAULT_EXCHANGE;
        private String queuePrefix = DEFAULT_QUEUE_PREFIX;
        private Map<String, Object> queueArguments = Map.of();
        private int prefetch = DEFAULT_PREFETCH;
        private int maxInFlightConfirms = DEFAULT_MAX_IN_FLIGHT_CONFIRMS;
        private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
        private Duration redeliveryBackoff = DEFAULT_REDELIVERY_BACKOFF;
        private Duration recoveryInterval;
        private String connectionName = DEFAULT_CONNECTION_NAME;

        private Builder() {}

        /**
         * The broker, {@code outbox.rabbitmq.uri}: {@code amqp://user:password@host:port/vhost} (or
         * {@code amqps://}). Either this or {@link #connectionFactory}.
         */
        public Builder uri(String uri) {
            if (uri == null || uri.isBlank()) {
                throw new OutboxConfigurationException("outbox.rabbitmq.uri", "must not be blank");
            }
            try {
                new ConnectionFactory().setUri(uri.strip());
            } catch (Exception e) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.uri",
                        "is not a valid AMQP URI (amqp://user:password@host:port/vhost): " + e.getMessage(),
                        e);
            }
            this.uri = uri.strip();
            return this;
        }

        /**
         * A connection factory configured by the caller (TLS, credentials provider, metrics...). The transport
         * works on a copy with automatic connection and topology recovery turned on; the factory itself is not
         * changed. Either this or {@link #uri}.
         */
        public Builder connectionFactory(ConnectionFactory connectionFactory) {
            this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
            return this;
        }

        /** The durable topic exchange, {@code outbox.rabbitmq.exchange}; default {@value #DEFAULT_EXCHANGE}. */
        public Builder exchange(String exchange) {
            if (exchange == null || exchange.isBlank()) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.exchange", "must not be blank (the default exchange cannot route by topic)");
            }
            if (exchange.getBytes(StandardCharsets.UTF_8).length > 255) {
                throw new OutboxConfigurationException("outbox.rabbitmq.exchange", "is longer than 255 bytes");
            }
            if (exchange.startsWith("amq.")) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.exchange", "'" + exchange + "' starts with 'amq.', which RabbitMQ reserves");
            }
            this.exchange = exchange;
            return this;
        }

        /**
         * Put before each group to name its queue, {@code outbox.rabbitmq.queue-prefix}; default empty (the
         * queue is named after the group). E.g. {@code orders.} gives queue {@code orders.inventory}.
         */
        public Builder queuePrefix(String queuePrefix) {
            if (queuePrefix == null) {
                throw new OutboxConfigurationException("outbox.rabbitmq.queue-prefix", "must not be null");
            }
            if (queuePrefix.startsWith("amq.")) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.queue-prefix",
                        "'" + queuePrefix + "' starts with 'amq.', which RabbitMQ reserves");
            }
            if (queuePrefix.getBytes(StandardCharsets.UTF_8).length > 200) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.queue-prefix", "is longer than 200 bytes, leaving too little for the group");
            }
            this.queuePrefix = queuePrefix;
            return this;
        }

        /**
         * Arguments of the groups' queues at their declaration, {@code outbox.rabbitmq.queue-arguments}; default none
         * (a classic queue, or the virtual host's default queue type). E.g. {@code Map.of("x-queue-type", "quorum")}
         * for replicated queues, {@code "x-dead-letter-exchange"}. Arguments that make the broker drop messages
         * ({@code x-message-ttl}, {@code x-max-length}, {@code x-expires}) drop them before the inbox has them. Values
         * are text, numbers or booleans, typed as RabbitMQ expects each argument ({@code x-delivery-limit} a number).
         * A queue that exists with other arguments is not changed: the declaration fails, naming the difference.
         *
         * <p>{@code x-queue-type} may be {@code classic} or {@code quorum}: a stream does not take acknowledgments
         * and requeues the way the consumers use them.
         */
        public Builder queueArguments(Map<String, ?> queueArguments) {
            if (queueArguments == null) {
                throw new OutboxConfigurationException("outbox.rabbitmq.queue-arguments", "must not be null");
            }
            Map<String, Object> arguments = new LinkedHashMap<>();
            queueArguments.forEach((name, value) -> {
                if (name == null || name.isBlank()) {
                    throw new OutboxConfigurationException("outbox.rabbitmq.queue-arguments", "has a blank name");
                }
                String property = "outbox.rabbitmq.queue-arguments." + name;
                if (!(value instanceof String || value instanceof Number || value instanceof Boolean)) {
                    throw new OutboxConfigurationException(
                            property, "must be text, a number or a boolean, was " + describe(value));
                }
                if (name.equals(QUEUE_TYPE_ARGUMENT) && !QUEUE_TYPES.contains(value.toString())) {
                    throw new OutboxConfigurationException(
                            property,
                            "must be one of " + QUEUE_TYPES + ", was '" + value + "' (the consumers acknowledge and"
                                    + " requeue deliveries, which streams do not take)");
                }
                arguments.put(name, value);
            });
            this.queueArguments = Collections.unmodifiableMap(arguments);
            return this;
        }

        /**
         * {@link #queueArguments} as configuration gives them, all text: whole numbers are declared as longs and
         * {@code true}/{@code false} as booleans, the rest as text, since the broker refuses, for instance, an
         * {@code x-delivery-limit} that is text.
         */
        public Builder queueArgumentsFromText(Map<String, String> queueArguments) {
            if (queueArguments == null) {
                throw new OutboxConfigurationException("outbox.rabbitmq.queue-arguments", "must not be null");
            }
            Map<String, Object> typed = new LinkedHashMap<>();
            queueArguments.forEach((name, value) -> typed.put(name, value == null ? null : typed(value)));
            return queueArguments(typed);
        }

        private static Object typed(String value) {
            String trimmed = value.strip();
            if (trimmed.equalsIgnoreCase("true") || trimmed.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(trimmed);
            }
            if (WHOLE_NUMBER.matcher(trimmed).matches()) {
                try {
                    return Long.parseLong(trimmed);
                } catch (NumberFormatException e) {
                    return value; // beyond a long: the broker says what it makes of it
                }
            }
            return value;
        }

        private static String describe(Object value) {
            return value == null ? "null" : value.getClass().getSimpleName() + " " + value;
        }

        /**
         * Deliveries each consumer may hold unacknowledged, {@code outbox.rabbitmq.prefetch}; 1 to 65535,
         * default {@value #DEFAULT_PREFETCH}. Also the largest batch a consumer hands to the inbox at once (one
         * transaction per batch).
         */
        public Builder prefetch(int prefetch) {
            if (prefetch < 1 || prefetch > 65535) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.prefetch", "must be between 1 and 65535, was " + prefetch);
            }
            this.prefetch = prefetch;
            return this;
        }

        /**
         * Sends waiting for their publisher confirm at most, {@code outbox.rabbitmq.max-in-flight-confirms};
         * at least 1, default {@value #DEFAULT_MAX_IN_FLIGHT_CONFIRMS}. A send beyond waits up to 5 s for one
         * to be confirmed, then fails.
         */
        public Builder maxInFlightConfirms(int maxInFlightConfirms) {
            if (maxInFlightConfirms < 1) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.max-in-flight-confirms", "must be at least 1, was " + maxInFlightConfirms);
            }
            this.maxInFlightConfirms = maxInFlightConfirms;
            return this;
        }

        /**
         * How long a send waits for its publisher confirm before it fails, {@code outbox.rabbitmq.confirm-timeout};
         * positive, default 30 s.
         */
        public Builder confirmTimeout(Duration confirmTimeout) {
            if (confirmTimeout == null || confirmTimeout.isNegative() || confirmTimeout.isZero()) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.confirm-timeout", "must be positive, was " + confirmTimeout);
            }
            this.confirmTimeout = confirmTimeout;
            return this;
        }

        /**
         * How long a consumer waits before it hands a batch the inbox could not take over again,
         * {@code outbox.rabbitmq.redelivery-backoff}; zero or more, default 1 s.
         */
        public Builder redeliveryBackoff(Duration redeliveryBackoff) {
            if (redeliveryBackoff == null || redeliveryBackoff.isNegative()) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.redelivery-backoff", "must be zero or more, was " + redeliveryBackoff);
            }
            this.redeliveryBackoff = redeliveryBackoff;
            return this;
        }

        /**
         * Pause between two reconnection attempts of the automatic recovery,
         * {@code outbox.rabbitmq.recovery-interval}; positive, default the connection factory's (5 s).
         */
        public Builder recoveryInterval(Duration recoveryInterval) {
            if (recoveryInterval == null || recoveryInterval.isNegative() || recoveryInterval.isZero()) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.recovery-interval", "must be positive, was " + recoveryInterval);
            }
            this.recoveryInterval = recoveryInterval;
            return this;
        }

        /**
         * Prefix of the client-provided connection names shown by the broker, {@code outbox.rabbitmq.connection-name};
         * the connections are {@code <name>-publisher} and {@code <name>-consumer}. Default
         * {@value #DEFAULT_CONNECTION_NAME}.
         */
        public Builder connectionName(String connectionName) {
            if (connectionName == null || connectionName.isBlank()) {
                throw new OutboxConfigurationException("outbox.rabbitmq.connection-name", "must not be blank");
            }
            this.connectionName = connectionName;
            return this;
        }

        public RabbitMqOutboxTransport build() {
            if (uri != null && connectionFactory != null) {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.uri", "set either a URI or a ConnectionFactory, not both");
            }
            ConnectionFactory factory;
            if (connectionFactory != null) {
                factory = connectionFactory.clone();
            } else if (uri != null) {
                factory = new ConnectionFactory();
                try {
                    factory.setUri(uri);
                } catch (Exception e) {
                    throw new OutboxConfigurationException("outbox.rabbitmq.uri", "is not a valid AMQP URI", e);
                }
                // fail fast instead of the client's 60 s / 10 min defaults: a send may open a channel
                factory.setConnectionTimeout(10_000);
                factory.setChannelRpcTimeout(10_000);
            } else {
                throw new OutboxConfigurationException(
                        "outbox.rabbitmq.uri", "is required (or give a ConnectionFactory)");
            }
            factory.setAutomaticRecoveryEnabled(true);
            factory.setTopologyRecoveryEnabled(true);
            if (recoveryInterval != null) {
                factory.setNetworkRecoveryInterval(recoveryInterval.toMillis());
            }
            return new RabbitMqOutboxTransport(this, factory);
        }
    }
}

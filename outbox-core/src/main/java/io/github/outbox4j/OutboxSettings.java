package io.github.outbox4j;

import java.time.Duration;

/**
 * The engine's knobs other than the retry policy: publishing, dispatcher, retry processor, cleanup and alerts. Each
 * default is a public constant; each setter validates its value and names its {@code outbox.*} property.
 * Immutable and thread-safe.
 */
public final class OutboxSettings {
    public static final int DEFAULT_DISPATCHER_THREADS = 2;
    public static final int DEFAULT_DISPATCHER_QUEUE_CAPACITY = 10_000;
    public static final int DEFAULT_DISPATCHER_BATCH_SIZE = 100;
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    public static final int DEFAULT_CLAIM_BATCH_SIZE = 1000;
    public static final int DEFAULT_RETRY_THREADS = 2;
    public static final Duration DEFAULT_LEASE = Duration.ofMinutes(2);
    public static final Duration DEFAULT_ATTEMPT_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_SUCCEEDED_RETENTION = Duration.ofHours(24);
    public static final Duration DEFAULT_FAILED_RETENTION = Duration.ofDays(15);
    public static final Duration DEFAULT_CLEANUP_INTERVAL = Duration.ofMinutes(5);
    public static final int DEFAULT_CLEANUP_BATCH_SIZE = 1_000;
    public static final Duration DEFAULT_ALERT_WINDOW = Duration.ofMinutes(5);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_HANDLER_THREADS = 8;
    /** 1 MiB: Kafka's default limit of a record ({@code max.request.size}, {@code message.max.bytes}). */
    public static final long DEFAULT_MAX_PAYLOAD_SIZE = 1024 * 1024;

    private static final OutboxSettings DEFAULTS = builder().build();

    private final int dispatcherThreads;
    private final int dispatcherQueueCapacity;
    private final int dispatcherBatchSize;
    private final Duration pollInterval;
    private final int claimBatchSize;
    private final int retryThreads;
    private final Duration lease;
    private final Duration attemptTimeout;
    private final Duration succeededRetention;
    private final Duration failedRetention;
    private final Duration cleanupInterval;
    private final int cleanupBatchSize;
    private final Duration alertWindow;
    private final Duration shutdownTimeout;
    private final int handlerThreads;
    private final long maxPayloadSize;

    private OutboxSettings(Builder b) {
        this.dispatcherThreads = b.dispatcherThreads;
        this.dispatcherQueueCapacity = b.dispatcherQueueCapacity;
        this.dispatcherBatchSize = b.dispatcherBatchSize;
        this.pollInterval = b.pollInterval;
        this.claimBatchSize = b.claimBatchSize;
        this.retryThreads = b.retryThreads;
        this.lease = b.lease;
        this.attemptTimeout = b.attemptTimeout;
        this.succeededRetention = b.succeededRetention;
        this.failedRetention = b.failedRetention;
        this.cleanupInterval = b.cleanupInterval;
        this.cleanupBatchSize = b.cleanupBatchSize;
        this.alertWindow = b.alertWindow;
        this.shutdownTimeout = b.shutdownTimeout;
        this.handlerThreads = b.handlerThreads;
        this.maxPayloadSize = b.maxPayloadSize;
    }

    public static OutboxSettings defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code outbox.dispatcher.threads}: lanes sending freshly committed messages. */
    public int dispatcherThreads() {
        return dispatcherThreads;
    }

    /** {@code outbox.dispatcher.queue-capacity}: messages waiting in memory at most, over all lanes. */
    public int dispatcherQueueCapacity() {
        return dispatcherQueueCapacity;
    }

    /** {@code outbox.dispatcher.batch-size}: messages a lane sends before one batched status update. */
    public int dispatcherBatchSize() {
        return dispatcherBatchSize;
    }

    /** {@code outbox.retry.poll-interval}: how often due rows are looked for. */
    public Duration pollInterval() {
        return pollInterval;
    }

    /** {@code outbox.retry.batch-size}: rows claimed at once. */
    public int claimBatchSize() {
        return claimBatchSize;
    }

    /** Threads per side draining a backlog of due rows in parallel, each claiming its own batches. */
    public int retryThreads() {
        return retryThreads;
    }

    /** {@code outbox.retry.lease}: how long a claimed row is left to its claimer before others may take it. */
    public Duration lease() {
        return lease;
    }

    /** {@code outbox.retry.attempt-timeout}: an attempt with no answer by then has failed. */
    public Duration attemptTimeout() {
        return attemptTimeout;
    }

    /** {@code outbox.cleanup.succeeded-retention}. */
    public Duration succeededRetention() {
        return succeededRetention;
    }

    /** {@code outbox.cleanup.failed-retention}. */
    public Duration failedRetention() {
        return failedRetention;
    }

    /** {@code outbox.cleanup.interval}. */
    public Duration cleanupInterval() {
        return cleanupInterval;
    }

    /** {@code outbox.cleanup.batch-size}: rows deleted per statement. */
    public int cleanupBatchSize() {
        return cleanupBatchSize;
    }

    /** {@code outbox.alert.window}: at most one alert per topic and group per window. */
    public Duration alertWindow() {
        return alertWindow;
    }

    /** {@code outbox.shutdown-timeout}: how long closing waits for in-flight work. */
    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    /** {@code outbox.consumer.handler-threads}: threads running consumer handlers, over all groups. */
    public int handlerThreads() {
        return handlerThreads;
    }

    /**
     * {@code outbox.publish.max-payload-size}: the largest payload, in bytes of UTF-8 JSON, that {@code publish}
     * accepts; a larger one throws {@link PayloadTooLargeException} before anything is written.
     */
    public long maxPayloadSize() {
        return maxPayloadSize;
    }

    /** Builds {@link OutboxSettings}, starting from the defaults. Not thread-safe. */
    public static final class Builder {
        private int dispatcherThreads = DEFAULT_DISPATCHER_THREADS;
        private int dispatcherQueueCapacity = DEFAULT_DISPATCHER_QUEUE_CAPACITY;
        private int dispatcherBatchSize = DEFAULT_DISPATCHER_BATCH_SIZE;
        private Duration pollInterval = DEFAULT_POLL_INTERVAL;
        private int claimBatchSize = DEFAULT_CLAIM_BATCH_SIZE;
        private int retryThreads = DEFAULT_RETRY_THREADS;
        private Duration lease = DEFAULT_LEASE;
        private Duration attemptTimeout = DEFAULT_ATTEMPT_TIMEOUT;
        private Duration succeededRetention = DEFAULT_SUCCEEDED_RETENTION;
        private Duration failedRetention = DEFAULT_FAILED_RETENTION;
        private Duration cleanupInterval = DEFAULT_CLEANUP_INTERVAL;
        private int cleanupBatchSize = DEFAULT_CLEANUP_BATCH_SIZE;
        private Duration alertWindow = DEFAULT_ALERT_WINDOW;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private int handlerThreads = DEFAULT_HANDLER_THREADS;
        private long maxPayloadSize = DEFAULT_MAX_PAYLOAD_SIZE;

        private Builder() {}

        public Builder dispatcherThreads(int value) {
            this.dispatcherThreads = positive("outbox.dispatcher.threads", value);
            return this;
        }

        public Builder dispatcherQueueCapacity(int value) {
            this.dispatcherQueueCapacity = positive("outbox.dispatcher.queue-capacity", value);
            return this;
        }

        public Builder dispatcherBatchSize(int value) {
            this.dispatcherBatchSize = positive("outbox.dispatcher.batch-size", value);
            return this;
        }

        public Builder pollInterval(Duration value) {
            this.pollInterval = positive("outbox.retry.poll-interval", value);
            return this;
        }

        public Builder claimBatchSize(int value) {
            this.claimBatchSize = positive("outbox.retry.batch-size", value);
            return this;
        }

        /**
         * Threads per side (published, received) draining a backlog in parallel: while one waits for the broker
         * or writes outcomes, another claims. Idle, only one polls.
         */
        public Builder retryThreads(int value) {
            this.retryThreads = positive("outbox.retry.threads", value);
            return this;
        }

        public Builder lease(Duration value) {
            this.lease = positive("outbox.retry.lease", value);
            return this;
        }

        public Builder attemptTimeout(Duration value) {
            this.attemptTimeout = positive("outbox.retry.attempt-timeout", value);
            return this;
        }

        public Builder succeededRetention(Duration value) {
            this.succeededRetention = notNegative("outbox.cleanup.succeeded-retention", value);
            return this;
        }

        public Builder failedRetention(Duration value) {
            this.failedRetention = notNegative("outbox.cleanup.failed-retention", value);
            return this;
        }

        public Builder cleanupInterval(Duration value) {
            this.cleanupInterval = positive("outbox.cleanup.interval", value);
            return this;
        }

        public Builder cleanupBatchSize(int value) {
            this.cleanupBatchSize = positive("outbox.cleanup.batch-size", value);
            return this;
        }

        public Builder alertWindow(Duration value) {
            this.alertWindow = notNegative("outbox.alert.window", value);
            return this;
        }

        public Builder shutdownTimeout(Duration value) {
            this.shutdownTimeout = notNegative("outbox.shutdown-timeout", value);
            return this;
        }

        public Builder handlerThreads(int value) {
            this.handlerThreads = positive("outbox.consumer.handler-threads", value);
            return this;
        }

        /** The largest payload accepted at publish, in bytes of UTF-8 JSON. */
        public Builder maxPayloadSize(long bytes) {
            if (bytes < 1) {
                throw new OutboxConfigurationException(
                        "outbox.publish.max-payload-size", "must be at least 1 byte, was " + bytes);
            }
            this.maxPayloadSize = bytes;
            return this;
        }

        public OutboxSettings build() {
            if (lease.compareTo(attemptTimeout) <= 0) {
                throw new OutboxConfigurationException(
                        "outbox.retry.lease",
                        "must be longer than outbox.retry.attempt-timeout (" + attemptTimeout + "), was " + lease
                                + ": a claim would end while its attempt may still be running");
            }
            return new OutboxSettings(this);
        }

        private static int positive(String property, int value) {
            if (value < 1) {
                throw new OutboxConfigurationException(property, "must be at least 1, was " + value);
            }
            return value;
        }

        private static Duration positive(String property, Duration value) {
            if (value == null || value.toMillis() < 1) {
                throw new OutboxConfigurationException(property, "must be at least 1 millisecond, was " + value);
            }
            return value;
        }

        private static Duration notNegative(String property, Duration value) {
            if (value == null || value.isNegative()) {
                throw new OutboxConfigurationException(property, "must not be negative, was " + value);
            }
            return value;
        }
    }
}

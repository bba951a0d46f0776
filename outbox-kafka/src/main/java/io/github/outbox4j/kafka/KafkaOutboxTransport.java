package io.github.outbox4j.kafka;

import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.spi.InboundListener;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka transport: sends with one idempotent producer ({@code acks=all}) and receives with consumer groups
 * that commit offsets only after the inbox has stored the batch.
 *
 * <p><b>Sending.</b> {@link #send} never blocks: it queues the record for the transport's sender thread, which
 * hands it to the producer, and returns a stage that completes when Kafka has acknowledged the record, or fails
 * when it has not within {@code delivery.timeout.ms} (the outbox then retries the message). While no broker
 * answers, the producer blocks for up to {@code max.block.ms} per record waiting for metadata; a record that
 * has waited that long in the queue fails at once, so every stage settles within about {@code
 * delivery.timeout.ms} or twice {@code max.block.ms}. The record key is the message key, else the message id;
 * every header of the message becomes a Kafka header (UTF-8).
 *
 * <p><b>Receiving.</b> {@link #subscribe} runs {@link Subscription#concurrency()} consumers for the group, each
 * on its own thread ({@code outbox-kafka-<group>-<n>}) with its own {@link KafkaConsumer}. Each poll's records
 * go to the {@link InboundListener} as one batch, and their offsets are committed only after it has returned.
 * If it throws, nothing is committed, the batch's partitions are rewound and paused for {@code
 * redelivery-backoff}, and the same records come again. The id of a received message is its {@code
 * outbox-msg-id} header, else {@code kafka:<topic>:<partition>:<offset>}.
 *
 * <p>Built with {@link #builder()}; {@link #start()} before sending, {@link #close()} at the end. Thread-safe.
 */
public final class KafkaOutboxTransport implements OutboxTransport {
    /** How long a consumer waits in one poll: {@code outbox.kafka.poll-timeout}. */
    public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(500);
    /** How long a consumer waits before redelivering a batch the inbox refused: {@code outbox.kafka.redelivery-backoff}. */
    public static final Duration DEFAULT_REDELIVERY_BACKOFF = Duration.ofSeconds(1);
    /** How long {@link #close()} waits for the consumers and the producer: {@code outbox.kafka.close-timeout}. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

    /**
     * The producer settings this transport starts from; {@code outbox.kafka.properties.*} and {@code
     * outbox.kafka.producer.*} override them. {@code linger.ms=1} batches concurrent sends without the 5 ms wait
     * of Kafka 4's default; {@code max.block.ms} bounds how long {@link #send} can block; {@code
     * delivery.timeout.ms} stays below the outbox's default attempt timeout (30 s) so that Kafka gives its
     * verdict before the outbox gives up on the attempt.
     */
    public static final Map<String, String> DEFAULT_PRODUCER_PROPERTIES = Map.of(
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
            ProducerConfig.LINGER_MS_CONFIG, "1",
            ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000",
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000",
            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "25000");

    /**
     * The consumer settings this transport starts from; {@code outbox.kafka.properties.*} and {@code
     * outbox.kafka.consumer.*} override them (except the fixed ones: {@code group.id}, {@code
     * enable.auto.commit=false}, the deserializers).
     */
    public static final Map<String, String> DEFAULT_CONSUMER_PROPERTIES =
            Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");

    private static final Logger log = LoggerFactory.getLogger(KafkaOutboxTransport.class);

    private final Map<String, Object> producerConfig;
    private final Map<String, Object> consumerConfig;
    private final Map<String, Object> adminConfig;
    private final TopicSpec topicSpec;
    private final Duration pollTimeout;
    private final Duration redeliveryBackoff;
    private final Duration closeTimeout;
    private final Map<String, List<GroupConsumer>> consumersByGroup = new ConcurrentHashMap<>();

    private volatile Producer<String, byte[]> producer;
    private volatile SendQueue sendQueue;
    private volatile TopicCreator topicCreator;
    private volatile boolean closed;

    private KafkaOutboxTransport(Builder builder, Map<String, Object> producerConfig) {
        this.producerConfig = producerConfig;
        this.consumerConfig = builder.consumerConfig();
        this.adminConfig = builder.adminConfig();
        this.topicSpec = builder.topicSpec;
        this.pollTimeout = builder.pollTimeout;
        this.redeliveryBackoff = builder.redeliveryBackoff;
        this.closeTimeout = builder.closeTimeout;
    }

    /** Starts a builder; {@link Builder#bootstrapServers(String)} is required. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return "kafka";
    }

    /** Creates the producer (it connects on the first send) and, with topic creation on, an admin client. */
    @Override
    public synchronized void start() {
        requireOpen();
        if (producer != null) {
            return;
        }
        if (topicSpec != null) {
            topicCreator = new TopicCreator(adminConfig, topicSpec, maxBlock());
        }
        producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        sendQueue = new SendQueue(producer, topicCreator, maxBlock());
        log.info(
                "Kafka transport started: bootstrap servers {}",
                producerConfig.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG));
    }

    @Override
    public CompletionStage<Void> send(TransportMessage message) {
        SendQueue queue = sendQueue;
        if (queue == null) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    closed
                            ? "The Kafka transport is closed"
                            : "The Kafka transport is not started: call start() first"));
        }
        return queue.send(KafkaMessages.toRecord(message));
    }

    /**
     * Starts {@link Subscription#concurrency()} consumers for the group. Creates the topics first when topic
     * creation is on (waiting at most {@code max.block.ms} per topic; a broker that does not answer is only
     * logged: the consumers wait for it). Throws {@link IllegalStateException} when the group is subscribed
     * already.
     */
    @Override
    public synchronized void subscribe(Subscription subscription, InboundListener listener) {
        Objects.requireNonNull(subscription, "subscription");
        Objects.requireNonNull(listener, "listener");
        requireOpen();
        if (producer == null) {
            throw new IllegalStateException("The Kafka transport is not started: call start() before subscribe()");
        }
        if (consumersByGroup.containsKey(subscription.group())) {
            throw new IllegalStateException("Group '" + subscription.group() + "' is subscribed already");
        }
        if (topicCreator != null) {
            for (String topic : subscription.topics()) {
                try {
                    topicCreator.ensure(topic);
                } catch (KafkaException e) {
                    // the broker is not there yet: the consumers wait for it, and the first send creates the topic
                    log.warn(
                            "Could not create Kafka topic '{}' for group '{}' now: {}",
                            topic,
                            subscription.group(),
                            e.toString());
                }
            }
        }
        List<GroupConsumer> consumers = new ArrayList<>(subscription.concurrency());
        String clientIdPrefix =
                String.valueOf(consumerConfig.getOrDefault(ConsumerConfig.CLIENT_ID_CONFIG, "outbox-kafka"));
        List<KafkaConsumer<String, byte[]>> created = new ArrayList<>(subscription.concurrency());
        try {
            for (int n = 1; n <= subscription.concurrency(); n++) {
                Map<String, Object> config = new HashMap<>(consumerConfig);
                config.put(ConsumerConfig.GROUP_ID_CONFIG, subscription.group());
                config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientIdPrefix + "-" + subscription.group() + "-" + n);
                KafkaConsumer<String, byte[]> consumer =
                        new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
                created.add(consumer);
                consumers.add(new GroupConsumer(
                        "outbox-kafka-" + subscription.group() + "-" + n,
                        consumer,
                        subscription,
                        listener,
                        pollTimeout,
                        redeliveryBackoff,
                        closeTimeout));
            }
        } catch (RuntimeException e) {
            // an invalid consumer setting: fail the subscription without leaking the consumers made so far
            created.forEach(consumer -> consumer.close(CloseOptions.timeout(Duration.ZERO)));
            throw e;
        }
        consumersByGroup.put(subscription.group(), consumers);
        consumers.forEach(GroupConsumer::start);
        log.info(
                "Kafka transport: group '{}' receives {} with {} consumer(s)",
                subscription.group(),
                subscription.topics(),
                subscription.concurrency());
    }

    /**
     * Stops the consumers (a batch in progress is finished and committed, bounded by {@code close-timeout}), then
     * closes the producer, giving in-flight sends up to {@code close-timeout} to complete. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long deadline = System.nanoTime() + closeTimeout.toNanos();
        List<GroupConsumer> all = new ArrayList<>();
        consumersByGroup.values().forEach(all::addAll);
        all.forEach(GroupConsumer::requestStop);
        for (GroupConsumer consumer : all) {
            consumer.awaitStop(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        if (sendQueue != null) {
            sendQueue.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        if (producer != null) {
            try {
                producer.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            } catch (RuntimeException e) {
                log.warn("Closing the Kafka producer failed", e);
            }
        }
        if (topicCreator != null) {
            topicCreator.close();
        }
    }

    private Duration maxBlock() {
        return Duration.ofMillis(
                Long.parseLong(String.valueOf(producerConfig.get(ProducerConfig.MAX_BLOCK_MS_CONFIG))));
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("The Kafka transport is closed");
        }
    }

    /** Partitions and replication factor of the topics the transport creates. */
    record TopicSpec(int partitions, short replicationFactor) {}

    /**
     * Configures a {@link KafkaOutboxTransport}. Each setter validates its value and names its {@code
     * outbox.kafka.*} property in the {@link OutboxConfigurationException} it throws. Not thread-safe.
     */
    public static final class Builder {
        private static final Set<String> FIXED_PRODUCER_PROPERTIES =
                Set.of(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);
        private static final Set<String> FIXED_CONSUMER_PROPERTIES = Set.of(
                ConsumerConfig.GROUP_ID_CONFIG,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG);

        private static final AtomicInteger INSTANCES = new AtomicInteger();

        private String bootstrapServers;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private final Map<String, String> producerProperties = new LinkedHashMap<>();
        private final Map<String, String> consumerProperties = new LinkedHashMap<>();
        private TopicSpec topicSpec;
        private Duration pollTimeout = DEFAULT_POLL_TIMEOUT;
        private Duration redeliveryBackoff = DEFAULT_REDELIVERY_BACKOFF;
        private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;

        private Builder() {}

        /** {@code outbox.kafka.bootstrap-servers}: {@code host:port[,host:port...]}; required. */
        public Builder bootstrapServers(String bootstrapServers) {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new OutboxConfigurationException(
                        "outbox.kafka.bootstrap-servers", "must name at least one host:port, was " + bootstrapServers);
            }
            this.bootstrapServers = bootstrapServers.strip();
            return this;
        }

        /**
         * {@code outbox.kafka.properties.*}: Kafka client settings for the producer, the consumers and the admin
         * client alike, e.g. {@code security.protocol}, {@code sasl.jaas.config}. Adds to earlier calls.
         */
        public Builder properties(Map<String, String> properties) {
            Set<String> fixed = new HashSet<>(FIXED_PRODUCER_PROPERTIES);
            fixed.addAll(FIXED_CONSUMER_PROPERTIES);
            this.properties.putAll(checked("outbox.kafka.properties", properties, fixed));
            return this;
        }

        /** {@code outbox.kafka.producer.*}: producer settings over the defaults. Adds to earlier calls. */
        public Builder producerProperties(Map<String, String> properties) {
            this.producerProperties.putAll(checked("outbox.kafka.producer", properties, FIXED_PRODUCER_PROPERTIES));
            return this;
        }

        /**
         * {@code outbox.kafka.consumer.*}: consumer settings over the defaults, e.g. {@code max.poll.records}.
         * {@code group.id} comes from the subscription, offsets are always committed by the transport after the
         * inbox stored them, and the deserializers are fixed. Adds to earlier calls.
         */
        public Builder consumerProperties(Map<String, String> properties) {
            this.consumerProperties.putAll(checked("outbox.kafka.consumer", properties, FIXED_CONSUMER_PROPERTIES));
            return this;
        }

        /**
         * {@code outbox.kafka.create-topics.partitions} and {@code .replication-factor}: create each topic before
         * its first send or subscription (a topic that exists is left as it is). Off by default: the broker's
         * {@code auto.create.topics.enable} or the operators create topics.
         */
        public Builder createTopics(int partitions, int replicationFactor) {
            if (partitions < 1) {
                throw new OutboxConfigurationException(
                        "outbox.kafka.create-topics.partitions", "must be at least 1, was " + partitions);
            }
            if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
                throw new OutboxConfigurationException(
                        "outbox.kafka.create-topics.replication-factor",
                        "must be between 1 and " + Short.MAX_VALUE + ", was " + replicationFactor);
            }
            this.topicSpec = new TopicSpec(partitions, (short) replicationFactor);
            return this;
        }

        /** {@code outbox.kafka.poll-timeout}: the longest one consumer poll waits for records. */
        public Builder pollTimeout(Duration pollTimeout) {
            this.pollTimeout = positive("outbox.kafka.poll-timeout", pollTimeout);
            return this;
        }

        /**
         * {@code outbox.kafka.redelivery-backoff}: how long a consumer waits before the records of a batch the
         * inbox refused (database down) come again. Zero redelivers at once.
         */
        public Builder redeliveryBackoff(Duration redeliveryBackoff) {
            this.redeliveryBackoff = notNegative("outbox.kafka.redelivery-backoff", redeliveryBackoff);
            return this;
        }

        /** {@code outbox.kafka.close-timeout}: how long {@link #close()} waits for consumers and in-flight sends. */
        public Builder closeTimeout(Duration closeTimeout) {
            this.closeTimeout = notNegative("outbox.kafka.close-timeout", closeTimeout);
            return this;
        }

        /** Builds the transport; throws {@link OutboxConfigurationException} when a required setting is missing. */
        public KafkaOutboxTransport build() {
            if (bootstrapServers == null) {
                throw new OutboxConfigurationException(
                        "outbox.kafka.bootstrap-servers", "is required: where the Kafka brokers are (host:port,...)");
            }
            Map<String, Object> producer = producerConfig();
            Map<String, Object> producerToCheck = new HashMap<>(producer);
            producerToCheck.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            producerToCheck.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            check(ProducerConfig.configDef(), producerToCheck, "outbox.kafka.producer", producerProperties);
            Map<String, Object> consumerToCheck = new HashMap<>(consumerConfig());
            consumerToCheck.put(ConsumerConfig.GROUP_ID_CONFIG, "outbox-kafka-check");
            consumerToCheck.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            consumerToCheck.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            check(ConsumerConfig.configDef(), consumerToCheck, "outbox.kafka.consumer", consumerProperties);
            return new KafkaOutboxTransport(this, producer);
        }

        private Map<String, Object> producerConfig() {
            Map<String, Object> config = new HashMap<>(DEFAULT_PRODUCER_PROPERTIES);
            config.putAll(properties);
            config.putAll(producerProperties);
            config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            // unique per transport: Kafka registers each client's metrics under its id
            config.putIfAbsent(
                    CommonClientConfigs.CLIENT_ID_CONFIG, "outbox-kafka-producer-" + INSTANCES.incrementAndGet());
            return config;
        }

        private Map<String, Object> consumerConfig() {
            Map<String, Object> config = new HashMap<>(DEFAULT_CONSUMER_PROPERTIES);
            config.putAll(properties);
            config.putAll(consumerProperties);
            config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            return config;
        }

        private Map<String, Object> adminConfig() {
            Map<String, Object> config = new HashMap<>(properties);
            config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            config.putIfAbsent(
                    CommonClientConfigs.CLIENT_ID_CONFIG, "outbox-kafka-admin-" + INSTANCES.incrementAndGet());
            return config;
        }

        private static Map<String, String> checked(String prefix, Map<String, String> properties, Set<String> fixed) {
            Objects.requireNonNull(properties, prefix);
            Map<String, String> checked = new LinkedHashMap<>();
            properties.forEach((key, value) -> {
                if (key == null || key.isBlank()) {
                    throw new OutboxConfigurationException(prefix + ".*", "a property name is blank");
                }
                String name = key.strip();
                if (value == null) {
                    throw new OutboxConfigurationException(prefix + "." + name, "has no value");
                }
                if (fixed.contains(name)) {
                    throw new OutboxConfigurationException(
                            prefix + "." + name, "is set by the Kafka transport and cannot be changed");
                }
                if (ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG.equals(name)
                        && "true".equals(value.strip().toLowerCase(Locale.ROOT))) {
                    throw new OutboxConfigurationException(
                            prefix + "." + name, "auto-commit would acknowledge messages before the inbox stored them");
                }
                if (ProducerConfig.ACKS_CONFIG.equals(name) && "0".equals(value.strip())) {
                    throw new OutboxConfigurationException(
                            prefix + "." + name,
                            "acks=0 cannot tell whether the broker stored a message; use all (the default) or 1");
                }
                checked.put(name, value.strip());
            });
            return checked;
        }

        /**
         * Lets Kafka's own definitions check every value now (types, ranges, required keys), so that a bad one
         * fails the build naming its property rather than the first send or subscription.
         */
        private void check(ConfigDef definition, Map<String, Object> config, String prefix, Map<String, String> own) {
            Map<String, String> values = new HashMap<>();
            config.forEach((name, value) -> values.put(name, String.valueOf(value)));
            for (ConfigValue value : definition.validateAll(values).values()) {
                if (!value.errorMessages().isEmpty()) {
                    String name = value.name();
                    String property = own.containsKey(name) || !properties.containsKey(name)
                            ? prefix + "." + name
                            : "outbox.kafka.properties." + name;
                    throw new OutboxConfigurationException(property, String.join("; ", value.errorMessages()));
                }
            }
        }

        private static Duration positive(String property, Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new OutboxConfigurationException(property, "must be a positive duration, was " + value);
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

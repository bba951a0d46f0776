package io.github.outbox4j.benchmarks;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import io.github.outbox4j.kafka.KafkaOutboxTransport;
import io.github.outbox4j.rabbitmq.RabbitMqOutboxTransport;
import io.github.outbox4j.spi.OutboxTransport;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.utils.AppInfoParser;

/** A database and a broker measured together, with what differs between them: DDL, SQL, broker topology. */
enum Stack {
    POSTGRES_KAFKA("postgres-kafka", "PostgreSQL", "Kafka") {
        @Override
        String jdbcUrl(BenchConfig config) {
            return config.postgresUrl();
        }

        @Override
        OutboxTransport transport(BenchConfig config, RunNames names) {
            return KafkaOutboxTransport.builder()
                    .bootstrapServers(config.kafkaBootstrap())
                    .createTopics(KAFKA_PARTITIONS, 1)
                    .build();
        }

        @Override
        Map<String, Object> springProperties(BenchConfig config, RunNames names) {
            Map<String, Object> properties = new LinkedHashMap<>();
            properties.put("outbox.transport", "kafka");
            properties.put("spring.kafka.bootstrap-servers", config.kafkaBootstrap());
            properties.put("outbox.kafka.create-topics.partitions", KAFKA_PARTITIONS);
            return properties;
        }

        @Override
        String ordersTableDdl(String table) {
            return "CREATE TABLE " + table + " (id bigint PRIMARY KEY, status varchar(16) NOT NULL,"
                    + " amount_cents bigint NOT NULL, created_at timestamptz NOT NULL)";
        }

        @Override
        Object timestamp(Instant instant) {
            return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
        }

        @Override
        String retainedRowsSql(String table, long first, long count) {
            return "INSERT INTO " + table + " (" + OUTBOX_COLUMNS + ")"
                    + " SELECT '00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'), 'bench.retained',"
                    + " g::text, '" + RETAINED_HEADERS + "',"
                    + " '{\"orderId\":' || g || ',\"amountCents\":1999,\"sku\":\"sku-1\",\"quantity\":2}',"
                    + " 'SUCCEEDED', 1, now() - interval '1 hour', NULL, now() + interval '24 hours', NULL, 2"
                    + " FROM generate_series(" + first + ", " + (first + count - 1) + ") AS g";
        }

        @Override
        List<String> afterBulkLoad(String table) {
            return List.of("VACUUM ANALYZE " + table);
        }

        /**
         * Creates the topic and waits until each partition has a leader. A producer that sends to a topic the moment it
         * is created can hit a partition without a leader yet; the idempotent producer then got
         * OUT_OF_ORDER_SEQUENCE_NUMBER for its retries for about 20 s (seen with Kafka 4.1), which is not what these
         * benchmarks measure.
         */
        @Override
        void prepareTopic(BenchConfig config, RunNames names, String topic, boolean consumed) {
            try (Admin admin = kafkaAdmin(config)) {
                admin.createTopics(List.of(new NewTopic(topic, KAFKA_PARTITIONS, (short) 1)))
                        .all()
                        .get(30, TimeUnit.SECONDS);
                Await.require(
                        () -> leadersElected(admin, topic),
                        Duration.ofSeconds(30),
                        "a leader for every partition of " + topic);
            } catch (Exception e) {
                throw new IllegalStateException("Cannot create the Kafka topic " + topic + ": " + e, e);
            }
        }

        private boolean leadersElected(Admin admin, String topic) {
            try {
                return admin
                        .describeTopics(List.of(topic))
                        .allTopicNames()
                        .get(10, TimeUnit.SECONDS)
                        .get(topic)
                        .partitions()
                        .stream()
                        .allMatch(partition -> partition.leader() != null
                                && !partition.leader().isEmpty());
            } catch (Exception e) {
                return false;
            }
        }

        @Override
        String brokerVersion(BenchConfig config) {
            try (Admin admin = kafkaAdmin(config)) {
                FeatureMetadata features =
                        admin.describeFeatures().featureMetadata().get(10, TimeUnit.SECONDS);
                var metadataVersion = features.finalizedFeatures().get("metadata.version");
                return "broker metadata.version level "
                        + (metadataVersion == null ? "?" : metadataVersion.maxVersionLevel()) + ", clients "
                        + AppInfoParser.getVersion();
            } catch (Exception e) {
                return "unknown (" + e + ")";
            }
        }

        @Override
        void deleteBrokerResources(BenchConfig config, RunNames names, List<String> topics) {
            try (Admin admin = kafkaAdmin(config)) {
                admin.deleteTopics(topics).all().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                // a topic never created (the run failed before creating it) is fine
                Log.detail("could not delete topics " + topics + ": " + e.getMessage());
            }
        }
    },

    MARIADB_RABBITMQ("mariadb-rabbitmq", "MariaDB", "RabbitMQ") {
        @Override
        String jdbcUrl(BenchConfig config) {
            return config.mysqlUrl();
        }

        @Override
        OutboxTransport transport(BenchConfig config, RunNames names) {
            return RabbitMqOutboxTransport.builder()
                    .uri(config.rabbitMqUri())
                    .exchange(names.exchange())
                    .queueArgumentsFromText(config.rabbitMqQueueArguments())
                    .build();
        }

        @Override
        Map<String, Object> springProperties(BenchConfig config, RunNames names) {
            // the connection comes from the RabbitMQ ConnectionFactory bean of SpringPublishApp
            Map<String, Object> properties = new LinkedHashMap<>();
            properties.put("outbox.transport", "rabbitmq");
            properties.put("outbox.rabbitmq.exchange", names.exchange());
            config.rabbitMqQueueArguments()
                    .forEach((name, value) -> properties.put("outbox.rabbitmq.queue-arguments." + name, value));
            return properties;
        }

        @Override
        String ordersTableDdl(String table) {
            return "CREATE TABLE " + table + " (id bigint PRIMARY KEY, status varchar(16) NOT NULL,"
                    + " amount_cents bigint NOT NULL, created_at datetime(6) NOT NULL) ENGINE = InnoDB";
        }

        @Override
        Object timestamp(Instant instant) {
            return LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
        }

        @Override
        String retainedRowsSql(String table, long first, long count) {
            // seq_1_to_N is MariaDB's SEQUENCE engine
            return "INSERT INTO " + table + " (" + OUTBOX_COLUMNS + ")"
                    + " SELECT CONCAT('00000000-0000-7000-8000-', LPAD(HEX(g), 12, '0')), 'bench.retained',"
                    + " CAST(g AS CHAR), '" + RETAINED_HEADERS + "',"
                    + " CONCAT('{\"orderId\":', g, ',\"amountCents\":1999,\"sku\":\"sku-1\",\"quantity\":2}'),"
                    + " 'SUCCEEDED', 1, UTC_TIMESTAMP(6) - INTERVAL 1 HOUR, NULL, UTC_TIMESTAMP(6) + INTERVAL 24 HOUR,"
                    + " NULL, 2 FROM (SELECT seq + " + (first - 1) + " AS g FROM seq_1_to_" + count + ") AS s";
        }

        @Override
        List<String> afterBulkLoad(String table) {
            return List.of("ANALYZE TABLE " + table);
        }

        @Override
        String brokerVersion(BenchConfig config) {
            try (Connection connection = rabbitMq(config).newConnection("outbox4j-benchmarks")) {
                return "RabbitMQ " + connection.getServerProperties().get("version");
            } catch (Exception e) {
                return "unknown (" + e + ")";
            }
        }

        /**
         * RabbitMQ confirms a message only once a queue took it (an unroutable one comes back and is retried), so a
         * topic no consumer group takes gets a queue of the run: durable, declared with the groups' queue arguments,
         * consumed by {@link #consumeSink}, and kept to the newest {@value Stack#SINK_QUEUE_LENGTH} messages should
         * that consumer fall behind, as the broker is shared and a drain sends a million. A consumed topic gets none:
         * each message would cost the broker a second persistent copy that a deployment does not have.
         */
        @Override
        void prepareTopic(BenchConfig config, RunNames names, String topic, boolean consumed) {
            try (Connection connection = rabbitMq(config).newConnection("outbox4j-benchmarks");
                    Channel channel = connection.createChannel()) {
                channel.exchangeDeclare(names.exchange(), BuiltinExchangeType.TOPIC, true, false, null);
                if (consumed) {
                    return;
                }
                // the groups' kind of queue (bench.rabbitmq.queue-arguments): a confirm waits for every queue
                Map<String, Object> arguments = new LinkedHashMap<>(rabbitMqQueueArguments(config));
                arguments.put("x-max-length", SINK_QUEUE_LENGTH);
                arguments.put("x-overflow", "drop-head");
                channel.queueDeclare(names.sinkQueue(), true, false, false, arguments);
                channel.queueBind(names.sinkQueue(), names.exchange(), topic);
            } catch (Exception e) {
                throw new IllegalStateException("Cannot declare the run's RabbitMQ queue: " + e, e);
            }
        }

        /**
         * A consumer with automatic acknowledgment on the run's queue: the broker delivers and deletes each message
         * as it would for a deployment's consumer, instead of keeping it until the queue's length limit drops it.
         */
        @Override
        AutoCloseable consumeSink(BenchConfig config, RunNames names) {
            try {
                Connection connection = rabbitMq(config).newConnection("outbox4j-benchmarks-sink");
                try {
                    Channel channel = connection.createChannel();
                    channel.basicConsume(names.sinkQueue(), true, new DefaultConsumer(channel));
                    return connection::close;
                } catch (IOException | RuntimeException e) {
                    connection.close();
                    throw e;
                }
            } catch (Exception e) {
                throw new IllegalStateException("Cannot consume the run's RabbitMQ queue: " + e, e);
            }
        }

        @Override
        void deleteBrokerResources(BenchConfig config, RunNames names, List<String> topics) {
            try (Connection connection = rabbitMq(config).newConnection("outbox4j-benchmarks");
                    Channel channel = connection.createChannel()) {
                channel.queueDelete(names.group());
                channel.queueDelete(names.sinkQueue());
                channel.exchangeDelete(names.exchange());
            } catch (Exception e) {
                Log.detail("could not delete RabbitMQ exchange " + names.exchange() + ": " + e.getMessage());
            }
        }
    };

    static final int KAFKA_PARTITIONS = 4;
    static final int SINK_QUEUE_LENGTH = 10_000;

    /** The outbox table's columns, for the rows the benchmarks write without the library. */
    static final String OUTBOX_COLUMNS = "id, topic, msg_key, headers, payload, status, attempts, added_at,"
            + " next_attempt_at, expires_at, last_error, version";

    private static final String RETAINED_HEADERS = "{\"outbox-msg-name\":\"bench.retained\","
            + "\"outbox-corr-id\":\"00000000-0000-7000-8000-000000000000\",\"content-type\":\"application/json\"}";

    private final String id;
    private final String database;
    private final String broker;

    Stack(String id, String database, String broker) {
        this.id = id;
        this.database = database;
        this.broker = broker;
    }

    static Stack named(String id) {
        for (Stack stack : values()) {
            if (stack.id.equals(id)) {
                return stack;
            }
        }
        throw new IllegalArgumentException(
                "bench.stacks: unknown stack '" + id + "', use postgres-kafka or" + " mariadb-rabbitmq");
    }

    String database() {
        return database;
    }

    String broker() {
        return broker;
    }

    abstract String jdbcUrl(BenchConfig config);

    /** A new transport for one run: its own Kafka topic or RabbitMQ exchange. */
    abstract OutboxTransport transport(BenchConfig config, RunNames names);

    /** The starter's properties selecting this broker. */
    abstract Map<String, Object> springProperties(BenchConfig config, RunNames names);

    abstract String ordersTableDdl(String table);

    /** An instant as this database's driver binds a UTC timestamp column. */
    abstract Object timestamp(Instant instant);

    /**
     * An INSERT ... SELECT writing {@code count} SUCCEEDED rows, numbered from {@code first}, into the outbox table:
     * ids shaped like the library's (UUIDs, sorting before the ones it makes now), expiring in 24 h.
     */
    abstract String retainedRowsSql(String table, long first, long count);

    /** Statements refreshing the planner's statistics after a bulk load (outside a transaction). */
    abstract List<String> afterBulkLoad(String table);

    abstract String brokerVersion(BenchConfig config);

    /**
     * Creates what messages to {@code topic} need on the broker besides what the transport declares itself;
     * {@code consumed} when a consumer group of the run takes all of them.
     */
    abstract void prepareTopic(BenchConfig config, RunNames names, String topic, boolean consumed);

    /**
     * Takes what the topics no consumer group takes are sent, as a deployment's consumers would, until closed; Kafka
     * keeps its log either way.
     */
    AutoCloseable consumeSink(BenchConfig config, RunNames names) {
        return () -> {};
    }

    /** Deletes the run's topics, or its exchange and queues. */
    abstract void deleteBrokerResources(BenchConfig config, RunNames names, List<String> topics);

    static Admin kafkaAdmin(BenchConfig config) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafkaBootstrap()));
    }

    static ConnectionFactory rabbitMq(BenchConfig config) {
        try {
            ConnectionFactory factory = new ConnectionFactory();
            factory.setUri(config.rabbitMqUri());
            return factory;
        } catch (Exception e) {
            throw new IllegalArgumentException("OUTBOX_TEST_RABBITMQ_URI is not an AMQP URI: " + e.getMessage(), e);
        }
    }

    /** {@code bench.rabbitmq.queue-arguments}, typed as the transport types them. */
    static Map<String, Object> rabbitMqQueueArguments(BenchConfig config) {
        return RabbitMqOutboxTransport.builder()
                .uri(config.rabbitMqUri())
                .queueArgumentsFromText(config.rabbitMqQueueArguments())
                .build()
                .queueArguments();
    }

    @Override
    public String toString() {
        return id;
    }
}

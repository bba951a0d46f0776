package io.github.outbox4j.reliability;

import io.github.outbox4j.kafka.KafkaOutboxTransport;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.testkit.TestServices;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The test Kafka broker of {@link TestServices#kafkaBootstrap()}. Topics have 3 partitions. Consumers use a 6 s
 * session timeout (the broker's minimum), so that the partitions of a consumer killed with SIGKILL go to the
 * group's other members after 6 s rather than Kafka's default 45 s.
 */
final class KafkaFixture implements BrokerFixture {
    static final String BOOTSTRAP_PROPERTY = "outbox.reliability.kafka.bootstrap";
    static final int PARTITIONS = 3;

    private final String bootstrapServers = TestServices.kafkaBootstrap();

    /** Makes the transport in another JVM, from {@value #BOOTSTRAP_PROPERTY}. */
    public static final class Factory implements Supplier<OutboxTransport> {
        @Override
        public OutboxTransport get() {
            return transport(System.getProperty(BOOTSTRAP_PROPERTY));
        }
    }

    static KafkaOutboxTransport transport(String bootstrapServers) {
        return KafkaOutboxTransport.builder()
                .bootstrapServers(bootstrapServers)
                .createTopics(PARTITIONS, 1)
                .pollTimeout(Duration.ofMillis(200))
                .redeliveryBackoff(Duration.ofMillis(500))
                .consumerProperties(Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "1000"))
                .build();
    }

    @Override
    public String name() {
        return "Kafka";
    }

    @Override
    public OutboxTransport newTransport() {
        return transport(bootstrapServers);
    }

    @Override
    public Class<? extends Supplier<OutboxTransport>> transportFactory() {
        return Factory.class;
    }

    @Override
    public List<String> transportFactoryProperties() {
        return List.of("-D" + BOOTSTRAP_PROPERTY + "=" + bootstrapServers);
    }

    @Override
    public void createTopic(String topic) throws Exception {
        createTopic(topic, Map.of());
    }

    /** Creates {@code topic} with topic-level settings, e.g. {@code max.message.bytes}. */
    void createTopic(String topic, Map<String, String> config) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1).configs(config)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }

    @Override
    public void sendRaw(String topic, String key, List<RawHeader> headers, byte[] body) throws Exception {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, body);
        headers.forEach(header -> record.headers().add(header.name(), header.value()));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(record).get(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public boolean allowsRepeatedHeaders() {
        return true;
    }

    /** Topics are left: each test names its own, and the broker is a test broker. */
    @Override
    public void close() {}
}

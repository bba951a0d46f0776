package io.github.outbox4j.kafka;

import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.testkit.KafkaBroker;
import io.github.outbox4j.testkit.OutboxTransportContract;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * The transport contract — publish, broker, inbox, handler, on PostgreSQL — over Kafka. It stops, restarts and
 * freezes the broker, so it runs on {@link RestartableBroker} rather than the shared one.
 */
class KafkaTransportContractIT extends OutboxTransportContract {
    private static KafkaBroker broker;

    @BeforeAll
    static void startOwnBroker() {
        broker = RestartableBroker.get();
    }

    /** Before the contract closes its outboxes (JUnit runs a subclass's first): a test that failed may leave it frozen. */
    @AfterEach
    void thawBrokerLeftFrozen() {
        broker.thaw();
    }

    @Override
    protected OutboxTransport newTransport() {
        return KafkaTransportFactory.transport(broker.bootstrapServers());
    }

    @Override
    protected Class<? extends Supplier<OutboxTransport>> transportFactory() {
        return KafkaTransportFactory.class;
    }

    @Override
    protected List<String> transportFactoryProperties() {
        return List.of("-D" + KafkaTransportFactory.BOOTSTRAP_PROPERTY + "=" + broker.bootstrapServers());
    }

    @Override
    protected void stopBroker() {
        broker.stop();
    }

    @Override
    protected void startBroker() {
        broker.start();
    }

    @Override
    protected void freezeBroker() {
        broker.freeze();
    }

    @Override
    protected void thawBroker() {
        broker.thaw();
    }

    @Override
    protected void sendRaw(String topic, String key, Map<String, String> headers, byte[] body) throws Exception {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, body);
        headers.forEach((name, value) -> record.headers().add(name, value.getBytes(StandardCharsets.UTF_8)));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
                new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(record).get(30, TimeUnit.SECONDS);
        }
    }

    @Override
    protected void prepareTopic(String topic) throws Exception {
        try (Admin admin = KafkaTestSupport.admin(broker.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }
}

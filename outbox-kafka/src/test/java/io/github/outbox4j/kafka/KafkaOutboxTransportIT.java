package io.github.outbox4j.kafka;

import static io.github.outbox4j.kafka.KafkaTestSupport.admin;
import static io.github.outbox4j.kafka.KafkaTestSupport.committed;
import static io.github.outbox4j.kafka.KafkaTestSupport.outboxMessage;
import static io.github.outbox4j.kafka.KafkaTestSupport.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.Subscription;
import io.github.outbox4j.spi.TransportMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The transport against a real broker: {@code OUTBOX_TEST_KAFKA_BOOTSTRAP} when set, else a broker this JVM
 * starts from the jars of {@code outbox-kafka-test-broker} ({@link RestartableBroker}). Every test uses its own
 * topics and groups.
 */
class KafkaOutboxTransportIT {
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private static String bootstrapServers;
    private static Admin admin;

    private final List<KafkaOutboxTransport> transports = new ArrayList<>();

    @BeforeAll
    static void broker() {
        bootstrapServers = RestartableBroker.configuredOrOwn();
        admin = admin(bootstrapServers);
    }

    @AfterAll
    static void closeAdmin() {
        admin.close(Duration.ofSeconds(5));
    }

    @AfterEach
    void closeTransports() {
        transports.forEach(KafkaOutboxTransport::close);
    }

    private KafkaOutboxTransport transport() {
        KafkaOutboxTransport transport = KafkaOutboxTransport.builder()
                .bootstrapServers(bootstrapServers)
                .createTopics(3, 1)
                .pollTimeout(Duration.ofMillis(200))
                .redeliveryBackoff(Duration.ofSeconds(1))
                .build();
        transport.start();
        transports.add(transport);
        return transport;
    }

    @Test
    void aMessageArrivesWithItsKeyHeadersAndBody() {
        String topic = unique("round-trip");
        String group = unique("group");
        KafkaOutboxTransport transport = transport();
        RecordingListener listener = new RecordingListener();
        transport.subscribe(new Subscription(group, Set.of(topic), 1), listener);

        TransportMessage keyed = outboxMessage(topic, "order-42", "{\"orderId\":42,\"note\":\"ünïcødé ✓\"}");
        Map<String, String> headers = new HashMap<>(keyed.headers());
        headers.put(OutboxHeaders.CALLBACK_NAME, "order.paid.done");
        headers.put(OutboxHeaders.TRACEPARENT, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        headers.put("x-tenant", "acme");
        keyed = new TransportMessage(keyed.id(), topic, keyed.key(), headers, keyed.body());
        TransportMessage keyless = outboxMessage(topic, null, "{\"orderId\":43}");

        transport.send(keyed).toCompletableFuture().join();
        transport.send(keyless).toCompletableFuture().join();

        await().atMost(DEADLINE).until(() -> listener.stored().size() == 2);
        Map<String, TransportMessage> received =
                listener.stored().stream().collect(Collectors.toMap(TransportMessage::id, m -> m));
        TransportMessage first = received.get(keyed.id());
        assertThat(first.topic()).isEqualTo(topic);
        assertThat(first.key()).isEqualTo("order-42");
        assertThat(first.headers()).isEqualTo(keyed.headers());
        assertThat(first.body()).isEqualTo(keyed.body());
        assertThat(new String(first.body(), StandardCharsets.UTF_8)).contains("ünïcødé ✓");
        TransportMessage second = received.get(keyless.id());
        assertThat(second.key()).as("no key was given").isNull();
        assertThat(second.headers()).isEqualTo(keyless.headers());
        assertThat(second.body()).isEqualTo(keyless.body());
        assertThat(KafkaTestSupport.partitions(admin, topic))
                .as("created by the transport")
                .isEqualTo(3);

        // on the wire: the record key is the message key, else the message id
        Map<String, String> keysById = readAll(topic, 2).stream()
                .collect(Collectors.toMap(
                        r -> new String(
                                r.headers().lastHeader(OutboxHeaders.MESSAGE_ID).value(), StandardCharsets.UTF_8),
                        ConsumerRecord::key));
        assertThat(keysById).containsEntry(keyed.id(), "order-42").containsEntry(keyless.id(), keyless.id());
    }

    @Test
    void aThousandMessagesReachTheGroupsThreeConsumersOnceAndAreCommitted() {
        String topic = unique("thousand");
        String group = unique("group");
        KafkaOutboxTransport transport = transport();
        RecordingListener listener = new RecordingListener();
        transport.subscribe(new Subscription(group, Set.of(topic), 3), listener);
        // all three consumers in the group before the first message, so that each owns a partition
        await().atMost(DEADLINE).until(() -> {
            var description = KafkaTestSupport.group(admin, group);
            return description.groupState() == GroupState.STABLE
                    && description.members().size() == 3;
        });

        List<TransportMessage> messages = IntStream.range(0, 1000)
                .mapToObj(i -> outboxMessage(topic, "order-" + i, "{\"orderId\":" + i + "}"))
                .toList();
        List<CompletableFuture<Void>> sends = messages.stream()
                .map(m -> transport.send(m).toCompletableFuture())
                .toList();
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
                .orTimeout(30, TimeUnit.SECONDS)
                .join();

        await().atMost(DEADLINE).until(() -> listener.storedIds().size() == 1000);
        assertThat(listener.storedIds())
                .isEqualTo(messages.stream().map(TransportMessage::id).collect(Collectors.toSet()));
        assertThat(listener.calls())
                .extracting(RecordingListener.Call::thread)
                .allMatch(name -> name.startsWith("outbox-kafka-" + group + "-"));
        assertThat(listener.calls().stream().map(RecordingListener.Call::thread).distinct())
                .as("each of the 3 consumers owns one of the 3 partitions")
                .hasSize(3);
        await().atMost(DEADLINE).until(() -> committed(admin, group) == 1000);

        // a new consumer of the group, after a restart, gets only what is new
        transport.close();
        KafkaOutboxTransport restarted = transport();
        RecordingListener after = new RecordingListener();
        restarted.subscribe(new Subscription(group, Set.of(topic), 1), after);
        TransportMessage marker = outboxMessage(topic, "marker", "{}");
        restarted.send(marker).toCompletableFuture().join();
        await().atMost(DEADLINE).until(() -> after.storedIds().contains(marker.id()));
        assertThat(after.storedIds()).containsExactly(marker.id());
    }

    @Test
    void aBatchTheListenerRefusesIsNotCommittedAndComesAgainAfterTheBackoff() {
        String topic = unique("refused");
        String group = unique("group");
        KafkaOutboxTransport transport = transport();
        AtomicBoolean databaseDown = new AtomicBoolean(true);
        RecordingListener listener = new RecordingListener(messages -> {
            if (databaseDown.get()) {
                throw new IllegalStateException("the database is down");
            }
        });
        transport.subscribe(new Subscription(group, Set.of(topic), 1), listener);
        List<TransportMessage> messages = IntStream.range(0, 5)
                .mapToObj(i -> outboxMessage(topic, "same-key", "{\"n\":" + i + "}"))
                .toList();
        messages.forEach(m -> transport.send(m).toCompletableFuture().join());
        Set<String> ids = messages.stream().map(TransportMessage::id).collect(Collectors.toSet());

        await().atMost(DEADLINE)
                .until(() ->
                        failedIds(listener).equals(ids) && failedCalls(listener).size() >= 3);
        List<RecordingListener.Call> failed = failedCalls(listener);
        for (int i = 1; i < failed.size(); i++) {
            long gapMillis = TimeUnit.NANOSECONDS.toMillis(
                    failed.get(i).at() - failed.get(i - 1).at());
            assertThat(gapMillis).as("redelivered after the 1 s backoff").isGreaterThanOrEqualTo(900);
        }
        assertThat(committed(admin, group))
                .as("nothing acknowledged while the inbox refuses")
                .isZero();

        databaseDown.set(false);
        await().atMost(DEADLINE).until(() -> listener.storedIds().equals(ids));
        await().atMost(DEADLINE).until(() -> committed(admin, group) == 5);
    }

    @Test
    void aMessageWithoutAnOutboxIdIsIdentifiedByItsPosition() throws Exception {
        String topic = unique("foreign");
        String group = unique("group");
        KafkaOutboxTransport transport = transport();
        RecordingListener listener = new RecordingListener();
        transport.subscribe(new Subscription(group, Set.of(topic), 1), listener);

        RecordMetadata written;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                new StringSerializer(),
                new ByteArraySerializer())) {
            written = producer.send(
                            new ProducerRecord<>(topic, "k", "not from an outbox".getBytes(StandardCharsets.UTF_8)))
                    .get(30, TimeUnit.SECONDS);
        }

        await().atMost(DEADLINE).until(() -> listener.stored().size() == 1);
        TransportMessage received = listener.stored().get(0);
        assertThat(received.id()).isEqualTo("kafka:" + topic + ":" + written.partition() + ":" + written.offset());
        assertThat(received.headers()).doesNotContainKey(OutboxHeaders.MESSAGE_ID);
        assertThat(received.key()).isEqualTo("k");
        assertThat(received.body()).asString(StandardCharsets.UTF_8).isEqualTo("not from an outbox");
    }

    @Test
    void offsetsAreCommittedOnlyAfterTheListenerReturned() throws InterruptedException {
        String topic = unique("slow-inbox");
        String group = unique("group");
        KafkaOutboxTransport transport = transport();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        RecordingListener listener = RecordingListener.blockedUntil(release, entered);
        transport.subscribe(new Subscription(group, Set.of(topic), 1), listener);
        List<TransportMessage> messages = IntStream.range(0, 3)
                .mapToObj(i -> outboxMessage(topic, "k", "{\"n\":" + i + "}"))
                .toList();
        messages.forEach(m -> transport.send(m).toCompletableFuture().join());

        assertThat(entered.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> committed(admin, group) == 0);

        release.countDown();
        await().atMost(DEADLINE).until(() -> committed(admin, group) == 3);
        assertThat(listener.storedIds()).hasSize(3);
    }

    @Test
    void closingFinishesTheBatchInProgressAndCommitsIt() throws InterruptedException {
        String topic = unique("closing");
        String group = unique("group");
        KafkaOutboxTransport transport = transport();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        RecordingListener listener = RecordingListener.blockedUntil(release, entered);
        transport.subscribe(new Subscription(group, Set.of(topic), 1), listener);
        transport.send(outboxMessage(topic, "k", "{}")).toCompletableFuture().join();
        assertThat(entered.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();

        Thread closer = new Thread(transport::close);
        closer.start();
        // close() is waiting for the consumer thread, which is still inside the listener
        await().atMost(DEADLINE).until(() -> closer.getState() == Thread.State.TIMED_WAITING);
        release.countDown();
        closer.join(Duration.ofSeconds(15).toMillis());

        assertThat(closer.isAlive()).isFalse();
        assertThat(committed(admin, group)).isEqualTo(1);
    }

    @Test
    void aTopicIsCreatedWithALeaderForEveryPartitionBeforeItIsUsed() throws Exception {
        String topic = unique("leaders");
        try (TopicCreator creator = new TopicCreator(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                new KafkaOutboxTransport.TopicSpec(12, (short) 1),
                DEADLINE)) {
            creator.ensure(topic);
        }

        // described once, at once: the creator returned only when the broker had elected every leader
        TopicDescription description =
                admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        assertThat(description.partitions())
                .hasSize(12)
                .allSatisfy(partition ->
                        assertThat(partition.leader()).isNotNull().matches(leader -> !leader.isEmpty(), "is a broker"));
    }

    @Test
    void sendingBeforeStartFailsTheStageInsteadOfThrowing() {
        KafkaOutboxTransport transport = KafkaOutboxTransport.builder()
                .bootstrapServers(bootstrapServers)
                .build();
        transports.add(transport);

        CompletableFuture<Void> sent =
                transport.send(outboxMessage("t", null, "{}")).toCompletableFuture();

        assertThat(sent).isCompletedExceptionally();
    }

    private static List<RecordingListener.Call> failedCalls(RecordingListener listener) {
        return listener.calls().stream().filter(RecordingListener.Call::failed).toList();
    }

    private static Set<String> failedIds(RecordingListener listener) {
        return failedCalls(listener).stream()
                .flatMap(call -> call.messages().stream())
                .map(TransportMessage::id)
                .collect(Collectors.toSet());
    }

    private static List<ConsumerRecord<String, byte[]>> readAll(String topic, int count) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, unique("reader"));
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            await().pollInSameThread().atMost(DEADLINE).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                return records.size() >= count;
            });
        }
        return records;
    }
}

package io.github.outbox4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.StoredMessage;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The end-to-end promises of a transport, shown on a real broker and PostgreSQL: publish → broker → inbox →
 * handler, with the handler's effects counted in a table written in the inbox transaction. Extend it once per
 * broker; the subclass says how to make a transport, how to stop and start the broker, and how to send a raw
 * message past the outbox.
 */
public abstract class OutboxTransportContract {

    /** The payload of the reference scenario. */
    public record OrderPaid(String orderId, long amountCents) {}

    /** A new transport for the broker under test; each outbox of a test gets its own. */
    protected abstract OutboxTransport newTransport();

    /** A class with a no-argument constructor making the same transport in another JVM. */
    protected abstract Class<? extends Supplier<OutboxTransport>> transportFactory();

    /** System properties ({@code -Dname=value}) the other JVM needs for {@link #transportFactory()}. */
    protected abstract List<String> transportFactoryProperties();

    /** Stops the broker (the outage begins). */
    protected abstract void stopBroker() throws Exception;

    /** Starts the broker again and waits until it accepts connections. */
    protected abstract void startBroker() throws Exception;

    /**
     * Freezes the broker (SIGSTOP): its connections stay open and nothing answers on them, as in a long pause or
     * behind a network that drops every packet.
     */
    protected abstract void freezeBroker() throws Exception;

    /** Lets the frozen broker go on (SIGCONT). */
    protected abstract void thawBroker() throws Exception;

    /** Sends a message straight to the broker, past the outbox: a replay, or a message from a stranger. */
    protected abstract void sendRaw(String topic, String key, Map<String, String> headers, byte[] body)
            throws Exception;

    /** Makes the topic exist where the broker needs it before the first publish (e.g. a Kafka topic). */
    protected void prepareTopic(String topic) throws Exception {}

    protected DataSource dataSource() {
        return TestServices.postgres();
    }

    private final List<Outbox> outboxes = new ArrayList<>();
    private final List<OutboxAlert> alerts = new CopyOnWriteArrayList<>();
    private TestTables tables;
    private String effects;
    private String topic;
    private String group;

    @BeforeEach
    void setUp() throws Exception {
        tables = TestTables.create(dataSource());
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
        effects = "effects_" + suffix;
        topic = "order.paid." + suffix;
        group = "inventory-" + suffix;
        execute("CREATE TABLE " + effects + " (message_id varchar(64) NOT NULL, group_name varchar(200) NOT NULL)");
        prepareTopic(topic);
    }

    @AfterEach
    void tearDown() throws SQLException {
        outboxes.forEach(Outbox::close);
        execute("DROP TABLE IF EXISTS " + effects);
        tables.close();
    }

    @Test
    void roundTripKeepsKeyHeadersAndPayload() {
        List<ReceivedMessage> received = new CopyOnWriteArrayList<>();
        List<OrderPaid> payloads = new CopyOnWriteArrayList<>();
        Outbox consumer = outbox(fastRetries());
        consumer.subscribe(topic, group, OrderPaid.class, (OrderPaid payload, ReceivedMessage message) -> {
            payloads.add(payload);
            received.add(message);
            recordEffect(message);
            return null;
        });
        consumer.start();
        Outbox producer = started(fastRetries());

        String id = producer.inTransaction(
                (connection, publisher) -> publisher.publish(OutboxMessage.builder(topic, new OrderPaid("o-1", 1999))
                        .key("o-1")
                        .header("tenant", "eu-1")
                        .build()));

        await().atMost(Duration.ofSeconds(60)).until(() -> effects(id) == 1);
        assertThat(payloads).containsExactly(new OrderPaid("o-1", 1999));
        ReceivedMessage message = received.get(0);
        assertThat(message.id()).isEqualTo(id);
        assertThat(message.key()).isEqualTo("o-1");
        assertThat(message.topic()).isEqualTo(topic);
        assertThat(message.group()).isEqualTo(group);
        assertThat(message.headers())
                .containsEntry("tenant", "eu-1")
                .containsEntry(OutboxHeaders.MESSAGE_ID, id)
                .containsEntry(OutboxHeaders.MESSAGE_NAME, topic)
                .containsEntry(OutboxHeaders.MESSAGE_KEY, "o-1")
                .containsEntry(OutboxHeaders.CONTENT_TYPE, OutboxHeaders.JSON)
                .containsKey(OutboxHeaders.SENT_TIME);
        await().until(() -> published(producer, id).status() == MessageStatus.SUCCEEDED);
        assertThat(received(consumer, id).status()).isEqualTo(MessageStatus.SUCCEEDED);
    }

    @Test
    void thousandMessagesThroughAGroupOfThreeConsumersAreEachHandledOnce() {
        int count = 1_000;
        Outbox consumer = outbox(fastRetries());
        consumer.subscribe(topic, group, OrderPaid.class, 3, (OrderPaid payload, ReceivedMessage message) -> {
            recordEffect(message);
            return null;
        });
        consumer.start();
        Outbox producer = started(fastRetries());

        for (int batch = 0; batch < count / 100; batch++) {
            int first = batch * 100;
            producer.inTransaction((connection, publisher) -> {
                for (int i = first; i < first + 100; i++) {
                    publisher.publish(OutboxMessage.builder(topic, new OrderPaid("o-" + i, i))
                            .key("o-" + i)
                            .build());
                }
                return null;
            });
        }

        await().atMost(Duration.ofMinutes(2)).until(() -> totalEffects() >= count);
        assertThat(totalEffects()).isEqualTo(count);
        assertThat(distinctEffects()).isEqualTo(count);
        System.out.printf(
                "[transport] %s: %d messages, 3 consumers, %d effects, %d distinct%n",
                getClass().getSimpleName(), count, totalEffects(), distinctEffects());
    }

    @Test
    void brokerOutageLosesNothingAndAppliesNothingTwice() throws Exception {
        publishAndConsumeThrough("outage", "broker down", Duration.ofSeconds(20), this::stopBroker, this::startBroker);
    }

    @Test
    void frozenBrokerLosesNothingAndAppliesNothingTwice() throws Exception {
        // connections stay open and nothing answers, for longer than a send waits for its acknowledgment (Kafka's
        // delivery.timeout.ms, 25 s; RabbitMQ's confirm timeout, 30 s): the sends under way fail and are retried
        int sendFailures = publishAndConsumeThrough(
                "frozen", "broker frozen", Duration.ofSeconds(35), this::freezeBroker, this::thawBroker);
        assertThat(sendFailures)
                .as("sends failed by their timeout while the broker was frozen")
                .isPositive();
    }

    /** Begins or ends a fault; may throw anything. */
    @FunctionalInterface
    private interface Fault {
        void run() throws Exception;
    }

    /**
     * Publishes 20 messages a second, consumed by a group of 2, while the broker is taken away by {@code begin} for
     * {@code duration} and brought back by {@code end}: publishing never fails, and every message is applied once.
     * Returns how many send attempts failed.
     */
    private int publishAndConsumeThrough(String label, String fault, Duration duration, Fault begin, Fault end)
            throws Exception {
        Outbox consumer = outbox(fastRetries());
        consumer.subscribe(topic, group, OrderPaid.class, 2, (OrderPaid payload, ReceivedMessage message) -> {
            recordEffect(message);
            return null;
        });
        consumer.start();
        AtomicInteger sendFailures = new AtomicInteger();
        Outbox producer = outbox(fastRetries(), new OutboxObserver() {
            @Override
            public void sendFailed(String topic, Throwable error) {
                sendFailures.incrementAndGet();
            }
        });
        producer.start();
        AtomicInteger published = new AtomicInteger();
        AtomicInteger publishFailures = new AtomicInteger();
        Runnable publishOne = () -> {
            int n = published.get();
            try {
                producer.inTransaction((connection, publisher) -> publisher.publish(topic, new OrderPaid("o-" + n, n)));
                published.incrementAndGet();
            } catch (RuntimeException e) {
                publishFailures.incrementAndGet();
            }
        };

        ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
        int beforeFault;
        long appliedDuringFault;
        try {
            ScheduledFuture<?> publishing = load.scheduleAtFixedRate(publishOne, 0, 50, TimeUnit.MILLISECONDS);
            await().atMost(Duration.ofSeconds(30)).until(() -> published.get() >= 50);
            begin.run();
            beforeFault = published.get();
            // the fault lasts while publishing goes on; the broker comes back by itself on schedule
            load.schedule(() -> null, duration.toMillis(), TimeUnit.MILLISECONDS)
                    .get();
            int duringFault = published.get() - beforeFault;
            appliedDuringFault = distinctEffects();
            end.run();
            await().atMost(Duration.ofSeconds(30)).until(() -> published.get() >= beforeFault + duringFault + 50);
            publishing.cancel(false);
        } finally {
            // a publish under way when the load stops still commits: wait for it before counting
            load.shutdown();
            assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        int total = published.get();

        await().atMost(Duration.ofMinutes(3)).until(() -> distinctEffects() >= total);
        assertThat(appliedDuringFault)
                .as("messages applied by the end of the fault: none published during it came through, but for the one"
                        + " publish that may have been under way when it began")
                .isLessThanOrEqualTo(beforeFault + 1);
        assertThat(publishFailures.get())
                .as("publishes that failed because of the fault")
                .isZero();
        assertThat(distinctEffects()).isEqualTo(total);
        assertThat(totalEffects()).as("effects applied twice").isEqualTo(total);
        System.out.printf(
                "[%s] %s: %d messages published, %s %d s, %d send attempts failed, lost %d, applied twice %d%n",
                label,
                getClass().getSimpleName(),
                total,
                fault,
                duration.toSeconds(),
                sendFailures.get(),
                total - distinctEffects(),
                totalEffects() - distinctEffects());
        return sendFailures.get();
    }

    @Test
    void consumerKilledInTheMiddleOfAHandlerAppliesTheMessageOnce() throws Exception {
        Duration firstDelay = Duration.ofSeconds(2);
        Outbox producer = started(fastRetries());
        String id;
        try (ConsumerProcess doomed = ConsumerProcess.start(
                TestServices.postgresUrl(),
                tables.options(),
                effects,
                topic,
                group,
                transportFactory(),
                firstDelay,
                transportFactoryProperties())) {
            id = producer.inTransaction((connection, publisher) -> publisher.publish(topic, new OrderPaid("o-1", 1)));
            doomed.awaitLine("HANDLING " + id, Duration.ofSeconds(60));
            doomed.kill();
        }
        assertThat(effects(id))
                .as("the killed handler's transaction was rolled back")
                .isZero();

        Outbox successor = outbox(RetryPolicy.builder()
                .firstDelay(firstDelay)
                .interval(Duration.ofSeconds(1))
                .build());
        successor.subscribe(topic, group, OrderPaid.class, (OrderPaid payload, ReceivedMessage message) -> {
            recordEffect(message);
            return null;
        });
        successor.start();

        await().atMost(Duration.ofSeconds(60)).until(() -> effects(id) == 1);
        await().until(() -> received(successor, id).status() == MessageStatus.SUCCEEDED);
        assertThat(effects(id)).isEqualTo(1);
    }

    @Test
    void theSameMessageDeliveredTwiceIsAppliedOnce() throws Exception {
        Outbox consumer = outbox(fastRetries());
        consumer.subscribe(topic, group, OrderPaid.class, (OrderPaid payload, ReceivedMessage message) -> {
            recordEffect(message);
            return null;
        });
        consumer.start();
        Outbox producer = started(fastRetries());
        String id = producer.inTransaction((connection, publisher) -> publisher.publish(
                OutboxMessage.builder(topic, new OrderPaid("o-1", 1)).key("o-1").build()));
        await().atMost(Duration.ofSeconds(60)).until(() -> effects(id) == 1);

        StoredMessage sent = published(producer, id);
        sendRaw(topic, "o-1", sent.headers(), sent.payload().getBytes(StandardCharsets.UTF_8));
        String marker = producer.inTransaction((connection, publisher) -> publisher.publish(
                OutboxMessage.builder(topic, new OrderPaid("o-1", 2)).key("o-1").build()));
        await().atMost(Duration.ofSeconds(60)).until(() -> effects(marker) == 1);

        assertThat(effects(id)).isEqualTo(1);
    }

    @Test
    void poisonMessagesAreFailedWithTheReasonAndDoNotBlockTheNextOne() throws Exception {
        Outbox consumer = outbox(fastRetries());
        consumer.subscribe(topic, group, OrderPaid.class, (OrderPaid payload, ReceivedMessage message) -> {
            recordEffect(message);
            return null;
        });
        consumer.start();
        Outbox producer = started(fastRetries());

        String notJson = UUID.randomUUID().toString();
        sendRaw(topic, "o-1", headersFor(notJson), "this is not JSON {".getBytes(StandardCharsets.UTF_8));
        String wrongShape = UUID.randomUUID().toString();
        sendRaw(topic, "o-1", headersFor(wrongShape), "[1, 2, 3]".getBytes(StandardCharsets.UTF_8));
        sendRaw(topic, "o-1", Map.of("tenant", "eu-1"), "{}".getBytes(StandardCharsets.UTF_8));
        String good = producer.inTransaction((connection, publisher) -> publisher.publish(
                OutboxMessage.builder(topic, new OrderPaid("o-1", 1)).key("o-1").build()));

        await().atMost(Duration.ofSeconds(60)).until(() -> effects(good) == 1);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> received(consumer, notJson).status() == MessageStatus.FAILED);
        StoredMessage poison = received(consumer, notJson);
        assertThat(poison.attempts()).isEqualTo(1);
        assertThat(poison.lastError()).contains("Cannot read the message body as");
        await().until(() -> received(consumer, wrongShape).status() == MessageStatus.FAILED);
        assertThat(count("SELECT count(*) FROM " + tables.receivedTable() + " WHERE status = 'FAILED' AND last_error"
                        + " LIKE 'missing header outbox-msg-id%'"))
                .isEqualTo(1);
        await().until(() -> alerts.stream().mapToInt(OutboxAlert::count).sum() >= 1);
        assertThat(totalEffects()).isEqualTo(1);
    }

    // --- helpers -------------------------------------------------------------------------------------

    /** Short delays, many attempts: tests of a broker outage must not wait for the 4-minute default. */
    protected static RetryPolicy fastRetries() {
        return RetryPolicy.builder()
                .immediateBackoff(Duration.ofMillis(50))
                .firstDelay(Duration.ofSeconds(1))
                .interval(Duration.ofSeconds(1))
                .maxAttempts(1_000)
                .build();
    }

    private Map<String, String> headersFor(String id) {
        return Map.of(
                OutboxHeaders.MESSAGE_ID, id,
                OutboxHeaders.MESSAGE_NAME, topic,
                OutboxHeaders.CONTENT_TYPE, OutboxHeaders.JSON);
    }

    private Outbox outbox(RetryPolicy policy) {
        return outbox(policy, OutboxObserver.NONE);
    }

    private Outbox outbox(RetryPolicy policy, OutboxObserver observer) {
        Outbox outbox = Outbox.builder()
                .dataSource(dataSource())
                .storageOptions(tables.options())
                .transport(newTransport())
                .retryPolicy(policy)
                .observer(observer)
                .settings(OutboxSettings.builder()
                        .pollInterval(Duration.ofMillis(200))
                        .build())
                .alertListener(alerts::add)
                .build();
        outboxes.add(outbox);
        return outbox;
    }

    private Outbox started(RetryPolicy policy) {
        Outbox outbox = outbox(policy);
        outbox.start();
        return outbox;
    }

    private static StoredMessage published(Outbox outbox, String id) {
        return outbox.storage().find(MessageKind.PUBLISHED, id, null).orElseThrow();
    }

    private StoredMessage received(Outbox outbox, String id) {
        return outbox.storage()
                .find(MessageKind.RECEIVED, id, group)
                .orElseThrow(() -> new AssertionError("message " + id + " not received by " + group));
    }

    private void recordEffect(ReceivedMessage message) throws SQLException {
        try (PreparedStatement insert = message.connection()
                .prepareStatement("INSERT INTO " + effects + " (message_id, group_name) VALUES (?, ?)")) {
            insert.setString(1, message.id());
            insert.setString(2, message.group());
            insert.executeUpdate();
        }
    }

    private long effects(String id) {
        return count("SELECT count(*) FROM " + effects + " WHERE message_id = '" + id + "'");
    }

    private long totalEffects() {
        return count("SELECT count(*) FROM " + effects);
    }

    private long distinctEffects() {
        return count("SELECT count(DISTINCT message_id) FROM " + effects);
    }

    private long count(String sql) {
        try (Connection connection = dataSource().getConnection();
                Statement statement = connection.createStatement();
                ResultSet resultSet = statement.executeQuery(sql)) {
            resultSet.next();
            return resultSet.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    private void execute(String sql) throws SQLException {
        try (Connection connection = dataSource().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}

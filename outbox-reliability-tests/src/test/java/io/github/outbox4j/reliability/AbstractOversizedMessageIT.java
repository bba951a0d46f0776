package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.PayloadTooLargeException;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §5.6 for oversized messages, on a real broker and PostgreSQL. A payload above {@code
 * outbox.publish.max-payload-size} is refused at publish, before anything is written, so the business transaction
 * rolls back. A message under that limit but above the broker's own is refused by the broker: it must become
 * FAILED at its first attempt, with the broker's reason, and be alerted, not be sent again 50 times; the messages
 * published around it are delivered.
 *
 * <p>Extended once per broker; the subclass sets the broker's limit low, so that refusing a message takes tens of
 * kilobytes rather than the defaults' megabytes.
 */
abstract class AbstractOversizedMessageIT {
    private static final String GROUP = "warehouse";

    /** The payload: a note of the size the test needs. */
    public record Note(String text) {
        /** A note whose JSON ({@code {"text":"…"}}) is exactly {@code bytes} long. */
        static Note ofJsonSize(int bytes) {
            return new Note("x".repeat(bytes - "{\"text\":\"\"}".length()));
        }
    }

    /** The broker, with its limit set for {@code topic}. */
    protected abstract BrokerFixture brokerWithLimit(String topic) throws Exception;

    /** A payload size (JSON bytes) the broker refuses, below the outbox's default limit. */
    protected abstract int refusedPayloadSize();

    private final DataSource dataSource = TestServices.postgres();
    private final List<Outbox> outboxes = new ArrayList<>();
    private final List<OutboxAlert> alerts = new CopyOnWriteArrayList<>();
    private BrokerFixture broker;
    private TestTables tables;
    private String effects;
    private String orders;
    private String topic;

    @BeforeEach
    void setUp() throws Exception {
        tables = TestTables.create(dataSource);
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
        effects = "effects_" + suffix;
        orders = "orders_" + suffix;
        topic = "delivery.note." + suffix;
        Sql.execute(dataSource, "CREATE TABLE " + effects + " (message_id varchar(128) NOT NULL)");
        Sql.execute(dataSource, "CREATE TABLE " + orders + " (order_id varchar(64) PRIMARY KEY)");
        broker = brokerWithLimit(topic);
    }

    @AfterEach
    void tearDown() throws Exception {
        outboxes.forEach(Outbox::close);
        if (broker != null) {
            broker.close();
        }
        Sql.execute(dataSource, "DROP TABLE IF EXISTS " + effects);
        Sql.execute(dataSource, "DROP TABLE IF EXISTS " + orders);
        tables.close();
    }

    @Test
    void aPayloadAboveTheOutboxLimitIsRefusedAtPublishAndItsTransactionRollsBack() {
        int limit = 10_000;
        Outbox outbox = startedConsumingOutbox(limit);

        assertThatThrownBy(() -> placeOrder(outbox, "o-1", Note.ofJsonSize(limit + 1)))
                .isInstanceOfSatisfying(PayloadTooLargeException.class, e -> {
                    assertThat(e.topic()).isEqualTo(topic);
                    assertThat(e.size()).isEqualTo(limit + 1);
                    assertThat(e.limit()).isEqualTo(limit);
                })
                .hasMessageContaining(topic)
                .hasMessageContaining("outbox.publish.max-payload-size");
        assertThat(Sql.count(dataSource, "SELECT count(*) FROM " + orders))
                .as("the business row rolled back with the refused publish")
                .isZero();
        assertThat(Sql.count(dataSource, "SELECT count(*) FROM " + tables.publishedTable()))
                .as("nothing written to the outbox")
                .isZero();

        String atTheLimit = placeOrder(outbox, "o-2", Note.ofJsonSize(limit));
        await().atMost(Duration.ofSeconds(60)).until(() -> effects(atTheLimit) == 1);
        assertThat(Sql.count(dataSource, "SELECT count(*) FROM " + orders)).isEqualTo(1);
    }

    @Test
    void aMessageTheBrokerRefusesAsTooLargeFailsAtItsFirstAttemptAndTheOthersAreDelivered() {
        Outbox outbox = startedConsumingOutbox(OutboxSettings.DEFAULT_MAX_PAYLOAD_SIZE);
        assertThat(refusedPayloadSize()).isLessThan((int) OutboxSettings.DEFAULT_MAX_PAYLOAD_SIZE);

        List<String> small = new ArrayList<>();
        small.add(publish(outbox, Note.ofJsonSize(100)));
        String big = publish(outbox, Note.ofJsonSize(refusedPayloadSize()));
        small.add(publish(outbox, Note.ofJsonSize(100)));
        small.add(publish(outbox, Note.ofJsonSize(100)));

        await().atMost(Duration.ofSeconds(60))
                .until(() -> published(outbox, big).status() == MessageStatus.FAILED
                        && small.stream().allMatch(id -> effects(id) == 1));
        StoredMessage refused = published(outbox, big);
        assertThat(refused.attempts()).as("attempts on the refused message").isEqualTo(1);
        assertThat(refused.lastError()).contains("PermanentFailureException").contains("too large");
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        alerts.stream().anyMatch(alert -> alert.messageIds().contains(big)));
        long smallAttempts =
                small.stream().mapToLong(id -> published(outbox, id).attempts()).sum();
        for (String id : small) {
            assertThat(published(outbox, id).status()).isEqualTo(MessageStatus.SUCCEEDED);
        }
        long lost = small.stream().filter(id -> effects(id) == 0).count();
        long appliedTwice = small.stream().filter(id -> effects(id) > 1).count();
        System.out.printf(
                "[oversized] %s: messages=%d (1 of %d bytes, above the broker's limit), faults=1 refused by the broker:"
                        + " FAILED after %d attempt, alerted; the 3 others delivered with %d attempts in all; lost=%d,"
                        + " applied twice=%d; reason: %s%n",
                broker.name(),
                small.size() + 1,
                refusedPayloadSize(),
                refused.attempts(),
                smallAttempts,
                lost,
                appliedTwice,
                refused.lastError());
        assertThat(lost).isZero();
        assertThat(appliedTwice).isZero();
    }

    private Outbox startedConsumingOutbox(long maxPayloadSize) {
        Outbox outbox = Outbox.builder()
                .dataSource(dataSource)
                .storageOptions(tables.options())
                .transport(broker.newTransport())
                .retryPolicy(RetryPolicy.builder()
                        .firstDelay(Duration.ofSeconds(1))
                        .interval(Duration.ofSeconds(1))
                        .build())
                .settings(OutboxSettings.builder()
                        .pollInterval(Duration.ofMillis(200))
                        .maxPayloadSize(maxPayloadSize)
                        .build())
                .alertListener(alerts::add)
                .build();
        outboxes.add(outbox);
        outbox.subscribe(topic, GROUP, Note.class, (Note note, ReceivedMessage message) -> {
            try (PreparedStatement insert =
                    message.connection().prepareStatement("INSERT INTO " + effects + " (message_id) VALUES (?)")) {
                insert.setString(1, message.id());
                insert.executeUpdate();
            }
            return null;
        });
        broker.groupWillSubscribe(GROUP);
        outbox.start();
        return outbox;
    }

    private String placeOrder(Outbox outbox, String orderId, Note note) {
        return outbox.inTransaction((connection, publisher) -> {
            try (PreparedStatement insert =
                    connection.prepareStatement("INSERT INTO " + orders + " (order_id) VALUES (?)")) {
                insert.setString(1, orderId);
                insert.executeUpdate();
            }
            return publisher.publish(topic, note);
        });
    }

    /** All with one key: on Kafka one partition, so the small messages queue behind the big one. */
    private String publish(Outbox outbox, Note note) {
        return outbox.inTransaction((connection, publisher) -> publisher.publish(
                OutboxMessage.builder(topic, note).key("one-key").build()));
    }

    private StoredMessage published(Outbox outbox, String id) {
        return outbox.storage().find(MessageKind.PUBLISHED, id, null).orElseThrow();
    }

    private long effects(String id) {
        return Sql.count(dataSource, "SELECT count(*) FROM " + effects + " WHERE message_id = '" + id + "'");
    }
}

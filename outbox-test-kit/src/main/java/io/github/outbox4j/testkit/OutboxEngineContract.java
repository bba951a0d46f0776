package io.github.outbox4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.ConnectionPublisher;
import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxSerializationException;
import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.OutboxTransactionRequiredException;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.TraceContextPropagator;
import io.github.outbox4j.spi.TransportMessage;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the engine guarantees, shown on a real database: publishing in the business transaction, the retry
 * timeline with a clock the test moves, recovery of messages whose process died, several engines on one
 * database, backlog draining in bounded memory, cleanup, delays and bad input. Extend it once per database.
 *
 * <p>The broker is a {@link RecordingTransport}: these tests are about the engine and the database; the
 * transports have their own contract.
 */
public abstract class OutboxEngineContract {
    private static final Instant T0 = Instant.parse("2026-01-05T08:00:00Z");
    private static final String TOPIC = "order.paid";

    /** The database under test. */
    protected abstract DataSource dataSource();

    /** This database's storage over the given tables. */
    protected abstract OutboxStorage createStorage(DataSource dataSource, StorageOptions options);

    /**
     * Statements through which the test holds up every UPDATE of {@code table}, as a stalled database would: {@code
     * install} creates a trigger that waits for a lock, {@code hold} takes that lock on a connection of the test and
     * {@code release} gives it back there, {@code remove} drops what {@code install} created.
     */
    protected abstract HeldUpdates heldUpdates(String table);

    /** The statements of {@link #heldUpdates}. */
    public record HeldUpdates(List<String> install, String hold, String release, List<String> remove) {}

    /** How many rows the backlog test drains. */
    protected int backlogSize() {
        return 100_000;
    }

    /** The payload of the reference scenario. */
    public record OrderPaid(String orderId, long amountCents) {}

    private final MutableClock clock = MutableClock.at(T0);
    private final List<OutboxAlert> alerts = new CopyOnWriteArrayList<>();
    private final List<Outbox> outboxes = new ArrayList<>();
    private TestTables testTables;
    private StorageOptions tables;
    private String orders;

    @BeforeEach
    void createTables() throws SQLException {
        testTables = TestTables.create(dataSource());
        tables = testTables.options();
        orders = "orders_" + tables.publishedTable().substring(StorageOptions.DEFAULT_PUBLISHED_TABLE.length() + 1);
        execute("CREATE TABLE " + orders + " (order_id varchar(64) PRIMARY KEY, status varchar(16) NOT NULL)");
    }

    @AfterEach
    void dropTables() throws SQLException {
        outboxes.forEach(Outbox::close);
        execute("DROP TABLE IF EXISTS " + orders);
        testTables.close();
    }

    @Test
    void committedMessageIsSentOnceAndRolledBackMessageNever() {
        RecordingTransport broker = RecordingTransport.recording(clock);
        Outbox outbox = started(broker, RetryPolicy.defaults(), settings -> settings);

        String committed = outbox.inTransaction((connection, publisher) -> {
            markPaid(connection, "o-1");
            return publisher.publish(TOPIC, new OrderPaid("o-1", 1999));
        });
        AtomicReference<String> rolledBack = new AtomicReference<>();
        assertThatThrownBy(() -> outbox.inTransaction((connection, publisher) -> {
                    markPaid(connection, "o-2");
                    rolledBack.set(publisher.publish(TOPIC, new OrderPaid("o-2", 500)));
                    throw new IllegalStateException("payment declined");
                }))
                .hasMessage("payment declined");

        await().until(() -> row(committed).status() == MessageStatus.SUCCEEDED);
        assertThat(broker.deliveries(committed)).isEqualTo(1);
        assertThat(row(committed).attempts()).isEqualTo(1);
        assertThat(orderExists("o-1")).isTrue();

        assertThat(rolledBack.get()).isNotNull();
        assertThat(outbox.storage().find(MessageKind.PUBLISHED, rolledBack.get(), null))
                .isEmpty();
        assertThat(orderExists("o-2")).isFalse();

        clock.advance(Duration.ofDays(1));
        assertThat(outbox.processDue()).isZero();
        assertThat(broker.deliveries(committed)).isEqualTo(1);
        assertThat(broker.attemptCount(rolledBack.get())).isZero();
    }

    @Test
    void failingMessageFollowsThePolicyTimelineThenFailsWithOneAlert() {
        RecordingTransport broker = RecordingTransport.recording(clock).failAlways();
        Outbox outbox = started(broker, policy(), this::manualPolling);

        String id = publishOne(outbox, "o-1");
        await().until(() -> row(id).attempts() == 3);
        assertThat(row(id).status()).isEqualTo(MessageStatus.RETRYING);
        assertThat(row(id).nextAttemptAt()).isEqualTo(T0.plus(Duration.ofMinutes(4)));

        StoredMessage last = driveUntilFinal(outbox, id);

        List<Instant> times =
                broker.attempts(id).stream().map(RecordingTransport.Attempt::at).toList();
        assertThat(times).hasSize(50);
        assertThat(times.subList(0, 3)).containsOnly(T0);
        for (int attempt = 4; attempt <= 50; attempt++) {
            assertThat(times.get(attempt - 1))
                    .as("attempt %d", attempt)
                    .isEqualTo(T0.plus(Duration.ofMinutes(attempt)));
        }
        assertThat(last.status()).isEqualTo(MessageStatus.FAILED);
        assertThat(last.attempts()).isEqualTo(50);
        assertThat(last.nextAttemptAt()).isNull();
        assertThat(last.expiresAt()).isEqualTo(T0.plus(Duration.ofMinutes(50)).plus(Duration.ofDays(15)));
        assertThat(last.lastError()).contains("broker unavailable");
        assertThat(alerts).singleElement().satisfies(alert -> {
            assertThat(alert.topic()).isEqualTo(TOPIC);
            assertThat(alert.count()).isEqualTo(1);
            assertThat(alert.messageIds()).containsExactly(id);
        });

        clock.advance(Duration.ofDays(1));
        assertThat(outbox.processDue()).isZero();
        assertThat(broker.attemptCount(id)).isEqualTo(50);
        assertThat(alerts).hasSize(1);
    }

    @Test
    void successAtTheSeventhAttemptStopsTheRetries() {
        RecordingTransport broker = RecordingTransport.recording(clock).failFirst(6);
        Outbox outbox = started(broker, policy(), this::manualPolling);

        String id = publishOne(outbox, "o-1");
        await().until(() -> row(id).attempts() == 3);
        StoredMessage last = driveUntilFinal(outbox, id);

        assertThat(last.status()).isEqualTo(MessageStatus.SUCCEEDED);
        assertThat(last.attempts()).isEqualTo(7);
        assertThat(last.lastError()).isNull();
        assertThat(last.expiresAt()).isEqualTo(T0.plus(Duration.ofMinutes(7)).plus(Duration.ofHours(24)));
        assertThat(broker.attempts(id))
                .last()
                .extracting(RecordingTransport.Attempt::at)
                .isEqualTo(T0.plus(Duration.ofMinutes(7)));
        clock.advance(Duration.ofHours(2));
        assertThat(outbox.processDue()).isZero();
        assertThat(broker.attemptCount(id)).isEqualTo(7);
        assertThat(broker.deliveries(id)).isEqualTo(1);
        assertThat(alerts).isEmpty();
    }

    @Test
    void messageOfAProcessThatDiedBeforeDispatchIsSentAfterTheFirstDelay() {
        RecordingTransport broker = RecordingTransport.recording(clock);
        // never started: its dispatcher threads never run, like a process killed right after the commit
        Outbox dying = outbox(broker, policy(), this::manualPolling);
        dying.storage().initialize(); // what its start() did before it "died"
        String id = publishOne(dying, "o-1");
        dying.close();
        assertThat(row(id).status()).isEqualTo(MessageStatus.PENDING);

        Outbox restarted = started(broker, policy(), this::manualPolling);
        clock.advance(Duration.ofMinutes(4).minusMillis(1));
        assertThat(restarted.processDue()).isZero();
        assertThat(broker.attemptCount(id)).isZero();

        clock.advance(Duration.ofMillis(1));
        assertThat(restarted.processDue()).isEqualTo(1);
        assertThat(broker.deliveries(id)).isEqualTo(1);
        assertThat(row(id).status()).isEqualTo(MessageStatus.SUCCEEDED);
    }

    @Test
    void threeEnginesOnOneDatabaseDoNotMultiplyTheAttempts() {
        int messages = 60;
        RecordingTransport broker =
                RecordingTransport.recording(clock).failAlways().latency(Duration.ofMillis(2));
        RetryPolicy policy = policyBuilder().maxAttempts(8).build();
        UnaryOperator<OutboxSettings.Builder> smallClaims =
                settings -> manualPolling(settings).claimBatchSize(5);
        List<Outbox> engines = List.of(
                started(broker, policy, smallClaims),
                started(broker, policy, smallClaims),
                started(broker, policy, smallClaims));

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < messages; i++) {
            ids.add(publishOne(engines.get(i % engines.size()), "o-" + i));
        }
        await().until(() -> ids.stream().allMatch(id -> row(id).attempts() == 3));

        for (int minute = 4; minute <= 8; minute++) {
            clock.set(T0.plus(Duration.ofMinutes(minute)));
            // the three retry processors poll the same due rows at the same moment
            List<CompletableFuture<Integer>> polls = engines.stream()
                    .map(engine -> CompletableFuture.supplyAsync(engine::processDue))
                    .toList();
            assertThat(polls.stream().mapToInt(CompletableFuture::join).sum())
                    .as("rows processed at minute %d", minute)
                    .isEqualTo(messages);
        }

        for (String id : ids) {
            assertThat(broker.attemptCount(id)).as("attempts on %s", id).isEqualTo(8);
            assertThat(row(id).status()).isEqualTo(MessageStatus.FAILED);
            assertThat(row(id).attempts()).isEqualTo(8);
        }
        assertThat(broker.maxInFlightPerMessage()).isEqualTo(1);
        clock.advance(Duration.ofHours(1));
        engines.forEach(Outbox::processDue);
        assertThat(alerts.stream().mapToInt(OutboxAlert::count).sum()).isEqualTo(messages);
        System.out.printf(
                "[instances] %s: 3 engines, %d messages, %d attempts each (policy 8), never in flight twice%n",
                getClass().getSimpleName(), messages, broker.attemptCount(ids.get(0)));
    }

    @Test
    void backlogDrainsInBoundedBatches() throws SQLException {
        int size = backlogSize();
        RecordingTransport broker = RecordingTransport.counting(clock);
        Outbox writer = outbox(broker, policy(), this::manualPolling);
        writer.storage().initialize(); // tables only: its dispatcher never runs, so every row is a backlog
        try (Connection connection = dataSource().getConnection()) {
            connection.setAutoCommit(false);
            ConnectionPublisher publisher = writer.publisher(connection);
            for (int i = 0; i < size; i++) {
                publisher.publish(TOPIC, new OrderPaid("o-" + i, i));
                if (i % 1_000 == 999) {
                    connection.commit(); // committed but not dispatched: a backlog for the retry processor
                }
            }
            connection.commit();
        }
        writer.close();

        clock.advance(Duration.ofMinutes(4));
        long heapBefore = usedHeapAfterGc();
        long started = System.nanoTime();
        Outbox drainer = started(broker, policy(), settings -> settings.pollInterval(Duration.ofMillis(50)));
        await().atMost(Duration.ofMinutes(5)).until(() -> broker.delivered() >= size);
        double seconds = (System.nanoTime() - started) / 1e9;
        long heapAfter = usedHeapAfterGc();

        assertThat(broker.delivered()).isEqualTo(size);
        assertThat(broker.messagesAttempted()).isEqualTo(size);
        assertThat(broker.duplicates()).isZero();
        assertThat(broker.maxInFlight())
                .as("at most two claimed batches per retry thread in memory: one sent while the other is recorded")
                .isLessThanOrEqualTo(
                        2 * OutboxSettings.DEFAULT_CLAIM_BATCH_SIZE * OutboxSettings.DEFAULT_RETRY_THREADS);
        await().until(() -> countRows("status = 'SUCCEEDED'") == size);
        System.out.printf(
                "[backlog] %s: %d rows drained in %.1f s (%.0f rows/s), at most %d in flight,"
                        + " used heap after GC %d MiB before, %d MiB after%n",
                getClass().getSimpleName(),
                size,
                seconds,
                size / seconds,
                broker.maxInFlight(),
                heapBefore >> 20,
                heapAfter >> 20);
        drainer.close();
    }

    @Test
    void whileOutcomeWritesStallFreshMessagesAreStillSent() throws SQLException {
        RecordingTransport broker = RecordingTransport.recording(clock);
        // one lane, at most 4 batches of 10 awaiting the broker; the queue holds 200
        Outbox outbox = started(
                broker,
                policy(),
                settings ->
                        settings.dispatcherThreads(1).dispatcherBatchSize(10).dispatcherQueueCapacity(200));
        HeldUpdates held = heldUpdates(tables.qualified(tables.publishedTable()));
        held.install().forEach(this::executeUnchecked);
        List<String> ids = new ArrayList<>();
        try (Connection holder = dataSource().getConnection();
                Statement statement = holder.createStatement()) {
            statement.execute(held.hold());
            try {
                for (int i = 0; i < 100; i++) {
                    ids.add(publishOne(outbox, "o-" + i));
                }

                await("all 100 sent while the outcome writes wait")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> ids.stream().allMatch(id -> broker.deliveries(id) == 1));
                assertThat(countRows("status = 'SUCCEEDED'"))
                        .as("every outcome write still waits")
                        .isZero();
            } finally {
                statement.execute(held.release());
            }
        } finally {
            held.remove().forEach(this::executeUnchecked);
        }

        // by the dispatcher: the clock stands still, so nothing is due for the retry processor
        await().until(() -> countRows("status = 'SUCCEEDED'") == 100);
    }

    @Test
    void delayedMessageIsNotSentBeforeItsTime() {
        RecordingTransport broker = RecordingTransport.recording(clock);
        Outbox outbox = started(broker, policy(), this::manualPolling);

        String id = outbox.inTransaction((connection, publisher) ->
                publisher.publishDelayed("order.reminder", new OrderPaid("o-1", 1), Duration.ofMinutes(10)));

        clock.advance(Duration.ofMinutes(10).minusMillis(1));
        assertThat(outbox.processDue()).isZero();
        assertThat(broker.attemptCount(id)).isZero();
        clock.advance(Duration.ofMillis(1));
        assertThat(outbox.processDue()).isEqualTo(1);
        assertThat(broker.deliveries(id)).isEqualTo(1);
        assertThat(broker.attempts(id))
                .singleElement()
                .extracting(RecordingTransport.Attempt::at)
                .isEqualTo(T0.plus(Duration.ofMinutes(10)));
    }

    @Test
    void expiredRowsAreDeletedAfterTheirRetention() {
        RecordingTransport broker = RecordingTransport.recording(clock).failFirst(0);
        Outbox outbox = started(broker, policyBuilder().maxAttempts(1).build(), this::manualPolling);
        String sent = publishOne(outbox, "o-1");
        await().until(() -> row(sent).status() == MessageStatus.SUCCEEDED);
        broker.failAlways();
        String failed = publishOne(outbox, "o-2");
        await().until(() -> row(failed).status() == MessageStatus.FAILED);

        clock.advance(Duration.ofHours(24));
        assertThat(outbox.purgeExpired()).isZero();
        clock.advance(Duration.ofMillis(1));
        assertThat(outbox.purgeExpired()).isEqualTo(1);
        assertThat(outbox.storage().find(MessageKind.PUBLISHED, sent, null)).isEmpty();
        assertThat(row(failed).status()).isEqualTo(MessageStatus.FAILED);

        clock.advance(Duration.ofDays(15));
        assertThat(outbox.purgeExpired()).isEqualTo(1);
        assertThat(outbox.storage().find(MessageKind.PUBLISHED, failed, null)).isEmpty();
    }

    @Test
    void unserializablePayloadFailsThePublishAndTheTransactionRollsBack() {
        Outbox outbox = started(RecordingTransport.recording(clock), policy(), this::manualPolling);

        assertThatThrownBy(() -> outbox.inTransaction((connection, publisher) -> {
                    markPaid(connection, "o-1");
                    return publisher.publish(TOPIC, new Unserializable());
                }))
                .isInstanceOf(OutboxSerializationException.class)
                .hasMessageContaining(Unserializable.class.getName());

        assertThat(orderExists("o-1")).isFalse();
        assertThat(countRows("1 = 1")).isZero();
    }

    @Test
    void publishingOutsideATransactionFailsClearly() throws SQLException {
        Outbox outbox = started(RecordingTransport.recording(clock), policy(), this::manualPolling);

        assertThatThrownBy(() -> outbox.publisher().publish(TOPIC, new OrderPaid("o-1", 1)))
                .isInstanceOf(OutboxTransactionRequiredException.class)
                .isInstanceOf(IllegalStateException.class);
        try (Connection connection = dataSource().getConnection()) {
            connection.setAutoCommit(true);
            assertThatThrownBy(() -> outbox.publisher(connection).publish(TOPIC, new OrderPaid("o-1", 1)))
                    .isInstanceOf(OutboxTransactionRequiredException.class)
                    .hasMessageContaining("auto-commit");
        }
        assertThat(countRows("1 = 1")).isZero();
    }

    @Test
    void storageIsDetectedFromTheDatabaseAndBadSettingsNameTheProperty() {
        Outbox detected = Outbox.builder()
                .dataSource(dataSource())
                .storageOptions(tables)
                .transport(RecordingTransport.recording(clock))
                .build();
        outboxes.add(detected);
        assertThat(detected.storage().getClass())
                .isEqualTo(createStorage(dataSource(), tables).getClass());

        assertThatThrownBy(() -> Outbox.builder()
                        .dataSource(dataSource())
                        .dialect("oracle")
                        .transport(RecordingTransport.recording(clock))
                        .build())
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.storage.dialect"))
                .hasMessageContaining("oracle");
        assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0))
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.retry.max-attempts"));
        assertThatThrownBy(() -> RetryPolicy.builder().firstDelay(Duration.ofMinutes(-4)))
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.retry.first-delay"));
        assertThatThrownBy(() -> OutboxSettings.builder().pollInterval(Duration.ofSeconds(-1)))
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.retry.poll-interval"));
        assertThatThrownBy(() -> StorageOptions.builder().publishedTable("x; drop table y"))
                .isInstanceOfSatisfying(
                        OutboxConfigurationException.class,
                        e -> assertThat(e.property()).isEqualTo("outbox.storage.published-table"))
                .hasMessageContaining("x; drop table y");
    }

    @Test
    void receivedMessagesAreHandledOncePerGroupThroughFailuresAndDuplicates() {
        InMemoryTransport broker = new InMemoryTransport();
        Outbox outbox = outbox(broker, policy(), this::manualPolling);
        Set<String> failedOnce = ConcurrentHashMap.newKeySet();
        outbox.subscribe(TOPIC, "inventory", OrderPaid.class, (OrderPaid payload, ReceivedMessage message) -> {
            markPaid(message.connection(), "inventory-" + payload.orderId());
            if (failedOnce.add(message.id())) {
                throw new IllegalStateException("stock service busy"); // rolls back the row written above
            }
            return null;
        });
        outbox.subscribe(TOPIC, "membership", OrderPaid.class, (OrderPaid payload, ReceivedMessage message) -> {
            markPaid(message.connection(), "membership-" + payload.orderId());
            return null;
        });
        outbox.start();

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ids.add(publishOne(outbox, "o-" + i));
        }
        await().until(() -> countReceived("status = 'SUCCEEDED'") == 40);
        for (TransportMessage replay : broker.sent()) {
            broker.send(replay); // a duplicate delivery to both groups
        }

        assertThat(count("SELECT count(*) FROM " + orders + " WHERE order_id LIKE 'inventory-%'"))
                .isEqualTo(20);
        assertThat(count("SELECT count(*) FROM " + orders + " WHERE order_id LIKE 'membership-%'"))
                .isEqualTo(20);
        for (String id : ids) {
            StoredMessage inventory =
                    outbox.storage().find(MessageKind.RECEIVED, id, "inventory").orElseThrow();
            assertThat(inventory.status()).isEqualTo(MessageStatus.SUCCEEDED);
            assertThat(inventory.attempts()).isEqualTo(2);
            assertThat(inventory.lastError()).isNull();
            assertThat(outbox.storage()
                            .find(MessageKind.RECEIVED, id, "membership")
                            .orElseThrow()
                            .attempts())
                    .isEqualTo(1);
        }
        assertThat(countReceived("1 = 1")).isEqualTo(40);
    }

    @Test
    void aHandlersResultIsPublishedToTheCallbackTopicWithTheCorrelationId() {
        InMemoryTransport broker = new InMemoryTransport();
        Outbox outbox = outbox(broker, policy(), this::manualPolling);
        outbox.subscribe(
                TOPIC,
                "warehouse",
                OrderPaid.class,
                (OrderPaid payload, ReceivedMessage message) -> "delivery-for-" + payload.orderId());
        List<ReceivedMessage> replies = new CopyOnWriteArrayList<>();
        List<String> replyPayloads = new CopyOnWriteArrayList<>();
        outbox.subscribe(
                "order.delivery-created", "orders", String.class, (String payload, ReceivedMessage message) -> {
                    replies.add(message);
                    replyPayloads.add(payload);
                    return null;
                });
        outbox.start();

        String id = outbox.inTransaction(
                (connection, publisher) -> publisher.publish(OutboxMessage.builder(TOPIC, new OrderPaid("o-1", 1))
                        .callbackTopic("order.delivery-created")
                        .build()));

        await().until(() -> replies.size() == 1);
        assertThat(replyPayloads).containsExactly("delivery-for-o-1");
        ReceivedMessage reply = replies.get(0);
        assertThat(reply.headers()).containsEntry(OutboxHeaders.CORRELATION_ID, id);
        assertThat(reply.id()).isNotEqualTo(id);
        await().until(() -> row(reply.id()).status() == MessageStatus.SUCCEEDED);
    }

    @Test
    void theTraceContextOfThePublisherIsCurrentInEveryAttemptOfTheHandler() {
        ThreadLocal<String> currentTrace = new ThreadLocal<>();
        TraceContextPropagator propagator = new TraceContextPropagator() {
            @Override
            public Map<String, String> currentContext() {
                String trace = currentTrace.get();
                return trace == null ? Map.of() : Map.of(OutboxHeaders.TRACEPARENT, trace);
            }

            @Override
            public Scope restore(Map<String, String> headers) {
                currentTrace.set(headers.get(OutboxHeaders.TRACEPARENT));
                return currentTrace::remove;
            }
        };
        InMemoryTransport broker = new InMemoryTransport();
        Outbox outbox = Outbox.builder()
                .dataSource(dataSource())
                .storage(createStorage(dataSource(), tables))
                .transport(broker)
                .retryPolicy(policy())
                .settings(manualPolling(OutboxSettings.builder()).build())
                .clock(clock)
                .traceContextPropagator(propagator)
                .build();
        outboxes.add(outbox);
        List<String> tracesSeen = new CopyOnWriteArrayList<>();
        outbox.subscribe(TOPIC, "inventory", OrderPaid.class, (OrderPaid payload, ReceivedMessage message) -> {
            tracesSeen.add(currentTrace.get());
            if (tracesSeen.size() == 1) {
                throw new IllegalStateException("first attempt fails: the retry must see the same trace");
            }
            return null;
        });
        outbox.start();

        String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        currentTrace.set(traceparent);
        String id;
        try {
            id = publishOne(outbox, "o-1");
        } finally {
            currentTrace.remove();
        }

        await().until(() -> tracesSeen.size() == 2);
        assertThat(tracesSeen).containsExactly(traceparent, traceparent);
        assertThat(row(id).headers()).containsEntry(OutboxHeaders.TRACEPARENT, traceparent);
        assertThat(broker.sent())
                .singleElement()
                .satisfies(sent -> assertThat(sent.headers()).containsEntry(OutboxHeaders.TRACEPARENT, traceparent));
    }

    // --- helpers -------------------------------------------------------------------------------------

    /** A payload Jackson cannot serialize: its only property throws. */
    public static final class Unserializable {
        public String getValue() {
            throw new UnsupportedOperationException("not serializable by design");
        }
    }

    private static RetryPolicy.Builder policyBuilder() {
        return RetryPolicy.builder().immediateBackoff(Duration.ZERO);
    }

    /** The default policy, without the pause between immediate attempts. */
    private static RetryPolicy policy() {
        return policyBuilder().build();
    }

    /** The background poll never comes during a test: the test drives the retry processor with the clock. */
    private OutboxSettings.Builder manualPolling(OutboxSettings.Builder settings) {
        return settings.pollInterval(Duration.ofHours(1));
    }

    private Outbox outbox(OutboxTransport broker, RetryPolicy policy, UnaryOperator<OutboxSettings.Builder> settings) {
        Outbox outbox = Outbox.builder()
                .dataSource(dataSource())
                .storage(createStorage(dataSource(), tables))
                .transport(broker)
                .retryPolicy(policy)
                .settings(settings.apply(OutboxSettings.builder()).build())
                .clock(clock)
                .alertListener(alerts::add)
                .build();
        outboxes.add(outbox);
        return outbox;
    }

    private Outbox started(
            RecordingTransport broker, RetryPolicy policy, UnaryOperator<OutboxSettings.Builder> settings) {
        Outbox outbox = outbox(broker, policy, settings);
        outbox.start();
        return outbox;
    }

    private String publishOne(Outbox outbox, String orderId) {
        return outbox.inTransaction((connection, publisher) -> {
            markPaid(connection, orderId);
            return publisher.publish(TOPIC, new OrderPaid(orderId, 1999));
        });
    }

    /** Moves the clock to each due time of the row and runs the retry processor, until the row is final. */
    private StoredMessage driveUntilFinal(Outbox outbox, String id) {
        StoredMessage current = row(id);
        for (int step = 0; step < 100 && !current.status().isFinal(); step++) {
            clock.set(current.nextAttemptAt());
            outbox.processDue();
            current = row(id);
        }
        return current;
    }

    private StoredMessage row(String id) {
        return outboxes.get(0).storage().find(MessageKind.PUBLISHED, id, null).orElseThrow();
    }

    private void markPaid(Connection connection, String orderId) throws SQLException {
        try (PreparedStatement statement =
                connection.prepareStatement("INSERT INTO " + orders + " (order_id, status) VALUES (?, 'PAID')")) {
            statement.setString(1, orderId);
            statement.executeUpdate();
        }
    }

    private boolean orderExists(String orderId) {
        return count("SELECT count(*) FROM " + orders + " WHERE order_id = '" + orderId + "'") == 1;
    }

    private long countRows(String condition) {
        return count("SELECT count(*) FROM " + tables.qualified(tables.publishedTable()) + " WHERE " + condition);
    }

    private long countReceived(String condition) {
        return count("SELECT count(*) FROM " + tables.qualified(tables.receivedTable()) + " WHERE " + condition);
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

    private void executeUnchecked(String sql) {
        try {
            execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}

package io.github.outbox4j.testkit;

import static io.github.outbox4j.MessageKind.PUBLISHED;
import static io.github.outbox4j.MessageKind.RECEIVED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.github.outbox4j.DuplicateMessageException;
import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.OutboxHeaders;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.spi.StoredMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What every {@link OutboxStorage} must do, checked against its real database. Each database extends this
 * class once, in an {@code *IT} test, supplying the database and the storage:
 *
 * <pre>{@code
 * class PostgresOutboxStorageIT extends OutboxStorageContract {
 *     protected DataSource dataSource() { return TestServices.postgres(); }
 *     protected OutboxStorage createStorage(DataSource dataSource, StorageOptions options) {
 *         return new PostgresOutboxStorage(dataSource, options);
 *     }
 * }
 * }</pre>
 *
 * <p>It also supplies {@link #failingUpdates}: a trigger through which the database fails updates of a table, as
 * it fails the transaction of a deadlock victim.
 *
 * <p>Every test works on tables of its own ({@link TestTables}), created through the storage's
 * {@link OutboxStorage#initialize()} and dropped afterwards, so the suite can share a database with other
 * runs. All times are passed in explicitly from a {@link MutableClock}; none is read from the database. A
 * storage that holds a lock after a method returns makes a later step wait: the class-wide timeout turns that
 * into a failure instead of a hung build.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class OutboxStorageContract {
    private static final String GROUP = "inventory";
    private static final String OTHER_GROUP = "membership";
    private static final Duration LEASE = Duration.ofSeconds(30);

    private DataSource dataSource;
    private TestTables tables;
    private OutboxStorage storage;
    private MutableClock clock;

    /** The database under test; called before each test. */
    protected abstract DataSource dataSource();

    /** A new storage of the implementation under test on {@code dataSource} with {@code options}. */
    protected abstract OutboxStorage createStorage(DataSource dataSource, StorageOptions options);

    /**
     * Statements making the database fail the next {@code times} UPDATE statements on {@code table} with SQLState
     * {@code sqlState}, counted outside any transaction so that the failures' rollbacks do not undo the count; and
     * the statements removing what they created.
     */
    protected abstract FailingUpdates failingUpdates(String table, int times, String sqlState);

    /** The statements of {@link #failingUpdates}, each run on its own, in order. */
    public record FailingUpdates(List<String> install, List<String> remove) {}

    @BeforeEach
    void createTables() {
        dataSource = dataSource();
        tables = TestTables.create(dataSource);
        storage = createStorage(dataSource, tables.options());
        storage.initialize();
        // milliseconds on purpose: every time below must survive the round trip exactly
        clock = MutableClock.at("2030-01-01T08:00:00.123Z");
    }

    @AfterEach
    void dropTables() {
        if (tables != null) {
            tables.close();
        }
    }

    // --- inserts ---------------------------------------------------------------------------------------

    @Test
    void insertPublishedJoinsTheCallersTransactionAndARollbackLeavesNothing() throws SQLException {
        StoredMessage message = message(PUBLISHED, clock.instant());

        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            storage.insertPublished(connection, message);
            assertThat(count(connection, PUBLISHED))
                    .as("visible inside the transaction")
                    .isEqualTo(1);
            connection.rollback();
        }

        assertThat(count(PUBLISHED)).isZero();
        assertThat(storage.find(PUBLISHED, message.id(), null)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void aCommittedRowKeepsEveryColumnWhateverTheJvmTimeZone(MessageKind kind) throws SQLException {
        String id = UUID.randomUUID().toString();
        StoredMessage full = new StoredMessage(
                id,
                group(kind),
                "order.paid",
                "order-42",
                Map.of(
                        OutboxHeaders.MESSAGE_ID,
                        id,
                        OutboxHeaders.CONTENT_TYPE,
                        "application/json",
                        "note",
                        "Größe ✓ 注文"),
                "{\"order\":\"注文-42\",\"rocket\":\"🚀\",\"text\":\"Ünïcödé\"}",
                MessageStatus.RETRYING,
                3,
                Instant.parse("2030-03-31T01:30:00.123Z"),
                Instant.parse("2030-03-31T01:34:00.456Z"),
                Instant.parse("2030-10-27T01:30:00.789Z"),
                "broker down ❌",
                7);
        StoredMessage minimal = StoredMessage.pending(
                UUID.randomUUID().toString(),
                group(kind),
                "t",
                null,
                Map.of(),
                "{}",
                Instant.parse("2030-01-01T00:00:00.001Z"),
                Instant.parse("2030-01-01T00:00:00.002Z"));

        TimeZone original = TimeZone.getDefault();
        try {
            // written in one zone and read in another, far from UTC: a conversion through the JVM zone shows
            TimeZone.setDefault(TimeZone.getTimeZone("Asia/Kathmandu"));
            insert(kind, full, minimal);
            TimeZone.setDefault(TimeZone.getTimeZone("America/St_Johns"));
            assertThat(storage.find(kind, full.id(), full.group())).contains(full);
            assertThat(storage.find(kind, minimal.id(), minimal.group())).contains(minimal);
        } finally {
            TimeZone.setDefault(original);
        }

        // and the columns hold what they say, as another reader of the table would see them
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement(
                        "SELECT topic, msg_key, payload, status, attempts, version, last_error FROM " + table(kind)
                                + " WHERE id = ?")) {
            statement.setString(1, full.id());
            try (ResultSet row = statement.executeQuery()) {
                assertThat(row.next()).isTrue();
                assertThat(row.getString(1)).isEqualTo("order.paid");
                assertThat(row.getString(2)).isEqualTo("order-42");
                assertThat(row.getString(3)).isEqualTo(full.payload());
                assertThat(row.getString(4)).isEqualTo("RETRYING");
                assertThat(row.getInt(5)).isEqualTo(3);
                assertThat(row.getInt(6)).isEqualTo(7);
                assertThat(row.getString(7)).isEqualTo("broker down ❌");
                assertThat(row.next()).isFalse();
            }
        }
        assertThat(count(kind)).isEqualTo(2);
    }

    @Test
    void insertPublishedOfAnExistingIdThrowsDuplicateMessageException() {
        StoredMessage first = message(PUBLISHED, clock.instant());
        insert(PUBLISHED, first);
        StoredMessage again = StoredMessage.pending(
                first.id(), null, "other.topic", null, Map.of(), "{\"again\":true}", clock.instant(), clock.instant());

        assertThatThrownBy(() -> inTransaction(connection -> storage.insertPublished(connection, again)))
                .isInstanceOf(DuplicateMessageException.class)
                .hasMessageContaining(first.id());
        assertThat(storage.find(PUBLISHED, first.id(), null)).contains(first);
        assertThat(count(PUBLISHED)).isEqualTo(1);
    }

    @Test
    void insertReceivedStoresAMessageOncePerGroup() {
        StoredMessage first = message(RECEIVED, clock.instant());
        StoredMessage redelivered = StoredMessage.pending(
                first.id(), GROUP, first.topic(), null, Map.of(), "{\"redelivered\":true}", clock.instant(), null);
        StoredMessage otherGroup = StoredMessage.pending(
                first.id(), OTHER_GROUP, first.topic(), null, Map.of(), first.payload(), clock.instant(), null);

        assertThat(storage.insertReceived(first)).isTrue();
        assertThat(storage.insertReceived(redelivered)).isFalse();
        assertThat(storage.insertReceived(otherGroup)).isTrue();

        assertThat(storage.find(RECEIVED, first.id(), GROUP)).contains(first);
        assertThat(storage.find(RECEIVED, first.id(), OTHER_GROUP)).contains(otherGroup);
        assertThat(count(RECEIVED)).isEqualTo(2);
    }

    @Test
    void insertReceivedOfABatchStoresEachNewMessageOnceAndNamesThem() {
        StoredMessage earlier = message(RECEIVED, clock.instant());
        assertThat(storage.insertReceived(earlier)).isTrue();
        StoredMessage redelivered = StoredMessage.pending(
                earlier.id(), GROUP, earlier.topic(), null, Map.of(), "{\"redelivered\":true}", clock.instant(), null);
        StoredMessage otherGroup = StoredMessage.pending(
                earlier.id(), OTHER_GROUP, earlier.topic(), null, Map.of(), earlier.payload(), clock.instant(), null);
        StoredMessage fresh = message(RECEIVED, clock.instant());
        StoredMessage freshAgain = StoredMessage.pending(
                fresh.id(), GROUP, fresh.topic(), null, Map.of(), fresh.payload(), clock.instant(), null);
        StoredMessage another = message(RECEIVED, clock.instant());

        List<StoredMessage> stored =
                storage.insertReceived(List.of(another, redelivered, fresh, otherGroup, freshAgain));

        assertThat(stored)
                .as("the new ones, in their order; a message delivered twice in one batch counts once")
                .containsExactly(another, fresh, otherGroup);
        assertThat(stored.get(1)).isSameAs(fresh);
        assertThat(storage.find(RECEIVED, earlier.id(), GROUP)).contains(earlier);
        assertThat(storage.find(RECEIVED, earlier.id(), OTHER_GROUP)).contains(otherGroup);
        assertThat(storage.find(RECEIVED, fresh.id(), GROUP)).contains(fresh);
        assertThat(storage.find(RECEIVED, another.id(), GROUP)).contains(another);
        assertThat(count(RECEIVED)).isEqualTo(4);
    }

    @Test
    void insertReceivedOfALargeBatchStoresEveryNewMessageAndSkipsTheOneReceivedBefore() {
        StoredMessage earlier = message(RECEIVED, clock.instant());
        assertThat(storage.insertReceived(earlier)).isTrue();
        List<StoredMessage> fresh = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            fresh.add(message(RECEIVED, clock.instant()));
        }
        List<StoredMessage> delivery = new ArrayList<>(fresh);
        delivery.add(150, earlier); // a redelivery among new messages, wherever the storage splits the batch

        List<StoredMessage> stored = storage.insertReceived(delivery);

        assertThat(stored).containsExactlyElementsOf(fresh);
        assertThat(count(RECEIVED)).isEqualTo(251);
        assertThat(fresh)
                .allSatisfy(message ->
                        assertThat(storage.find(RECEIVED, message.id(), GROUP)).contains(message));
        assertThat(storage.insertReceived(fresh))
                .as("all of them again: none is new")
                .isEmpty();
        assertThat(count(RECEIVED)).isEqualTo(251);
    }

    @Test
    void twoConsumersStoringOverlappingDeliveriesAtOnceStoreEachMessageOnceWithoutDeadlock() throws Exception {
        // two instances of a group given the same messages (a rebalance, a redelivery), each in its own order
        int rounds = 10;
        int messagesPerRound = 200;
        int overlap = 100;
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService consumers = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < rounds; round++) {
                List<StoredMessage> messages = new ArrayList<>();
                for (int i = 0; i < messagesPerRound; i++) {
                    messages.add(message(RECEIVED, clock.instant()));
                }
                int split = (messagesPerRound + overlap) / 2;
                List<StoredMessage> first = new ArrayList<>(messages.subList(0, split));
                List<StoredMessage> second =
                        new ArrayList<>(messages.subList(messagesPerRound - split, messagesPerRound));
                Collections.shuffle(first);
                Collections.reverse(second);
                Future<List<StoredMessage>> a = consumers.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    return storage.insertReceived(first);
                });
                Future<List<StoredMessage>> b = consumers.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    return storage.insertReceived(second);
                });
                List<String> storedByA = keys(a.get(50, TimeUnit.SECONDS));
                List<String> storedByB = keys(b.get(50, TimeUnit.SECONDS));

                Set<String> storedByBoth = new HashSet<>(storedByA);
                storedByBoth.retainAll(storedByB);
                assertThat(storedByBoth)
                        .as("round %d: named as stored by both", round)
                        .isEmpty();
                List<String> together = new ArrayList<>(storedByA);
                together.addAll(storedByB);
                assertThat(together)
                        .as("round %d: every message stored by one of them", round)
                        .containsExactlyInAnyOrderElementsOf(keys(messages));
            }
        } finally {
            consumers.shutdownNow();
        }
        assertThat(count(RECEIVED)).isEqualTo(rounds * messagesPerRound);
    }

    // --- claims ------------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void claimDueReturnsOnlyDueRowsEarliestFirstAndAtMostLimit(MessageKind kind) {
        Instant now = clock.instant();
        StoredMessage oldest = message(kind, now.minusSeconds(3));
        StoredMessage middle = message(kind, now.minusSeconds(2));
        StoredMessage recent = message(kind, now.minusSeconds(1));
        StoredMessage dueNow = message(kind, now);
        StoredMessage delayed = message(kind, now.plusMillis(1));
        StoredMessage done = finalRow(kind, MessageStatus.SUCCEEDED, now.plus(Duration.ofDays(1)));
        // inserted out of order, ids random: only the due time may decide the order
        insert(kind, dueNow, delayed, recent, done, oldest, middle);

        assertThat(keys(storage.claimDue(kind, now, now.plus(LEASE), 2))).containsExactly(key(oldest), key(middle));
        assertThat(keys(storage.claimDue(kind, now, now.plus(LEASE), 10)))
                .as("due at exactly now is due")
                .containsExactly(key(recent), key(dueNow));
        assertThat(storage.claimDue(kind, now, now.plus(LEASE), 10))
                .as("the delayed row before its time")
                .isEmpty();

        Instant later = clock.advance(Duration.ofMillis(1));
        assertThat(keys(storage.claimDue(kind, later, later.plus(LEASE), 10))).containsExactly(key(delayed));

        Instant muchLater = clock.advance(Duration.ofDays(400));
        assertThat(keys(storage.claimDue(kind, muchLater, muchLater.plus(LEASE), 100)))
                .as("leases expired, the final row never")
                .containsExactlyInAnyOrder(key(oldest), key(middle), key(recent), key(dueNow), key(delayed));
        assertThat(storage.find(kind, done.id(), done.group())).contains(done);
    }

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void twoConcurrentClaimersNeverGetTheSameRowAndTogetherGetAll(MessageKind kind) throws Exception {
        // the inbox inserts commit one by one, so it gets fewer rows to stay fast
        int rows = kind == PUBLISHED ? 2_000 : 400;
        int limit = 20;
        Instant now = clock.instant();
        List<StoredMessage> messages = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            String id = kind == RECEIVED && i % 2 == 1
                    ? messages.get(i - 1).id()
                    : UUID.randomUUID().toString();
            String group = kind == RECEIVED && i % 2 == 1 ? OTHER_GROUP : group(kind);
            messages.add(StoredMessage.pending(
                    id, group, "order.paid", null, Map.of(), "{}", now, now.minusMillis(rows - i)));
        }
        insert(kind, messages.toArray(StoredMessage[]::new));

        CyclicBarrier connected = new CyclicBarrier(2);
        CyclicBarrier start = new CyclicBarrier(2);
        Callable<List<String>> claimer = () -> {
            // both hold a connection at once first, so the pool has two ready and neither claimer starts late
            // because it is still connecting while the other drains the table
            try (Connection warmUp = dataSource.getConnection()) {
                assertThat(warmUp.isValid(5)).isTrue();
                connected.await(10, TimeUnit.SECONDS);
            }
            start.await(10, TimeUnit.SECONDS);
            List<String> claimed = new ArrayList<>();
            List<StoredMessage> batch;
            while (!(batch = storage.claimDue(kind, now, now.plus(LEASE), limit)).isEmpty()) {
                assertThat(batch).hasSizeLessThanOrEqualTo(limit);
                batch.forEach(message -> claimed.add(key(message)));
            }
            return claimed;
        };
        ExecutorService claimers = Executors.newFixedThreadPool(2);
        List<String> first;
        List<String> second;
        try {
            Future<List<String>> a = claimers.submit(claimer);
            Future<List<String>> b = claimers.submit(claimer);
            first = a.get(50, TimeUnit.SECONDS);
            second = b.get(50, TimeUnit.SECONDS);
        } finally {
            claimers.shutdownNow();
        }

        Set<String> claimedByBoth = new HashSet<>(first);
        claimedByBoth.retainAll(second);
        assertThat(claimedByBoth).as("claimed by both").isEmpty();
        List<String> together = new ArrayList<>(first);
        together.addAll(second);
        assertThat(together).doesNotHaveDuplicates().hasSize(rows);
        Set<String> expected = new HashSet<>();
        messages.forEach(message -> expected.add(key(message)));
        assertThat(new HashSet<>(together)).isEqualTo(expected);
        assertThat(countWhere(kind, "version <> " + messages.get(0).version()))
                .as("every row's version changed by its one claim")
                .isEqualTo(rows);
    }

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void claimDueSkipsRowsLockedByAnotherTransactionInsteadOfWaiting(MessageKind kind) throws SQLException {
        Instant now = clock.instant();
        StoredMessage locked = message(kind, now.minusSeconds(3));
        StoredMessage second = message(kind, now.minusSeconds(2));
        StoredMessage third = message(kind, now.minusSeconds(1));
        insert(kind, locked, second, third);

        try (Connection other = dataSource.getConnection()) {
            other.setAutoCommit(false);
            String where = kind == RECEIVED ? " WHERE id = ? AND group_name = ?" : " WHERE id = ?";
            try (PreparedStatement lock =
                    other.prepareStatement("SELECT id FROM " + table(kind) + where + " FOR UPDATE")) {
                lock.setString(1, locked.id());
                if (kind == RECEIVED) {
                    lock.setString(2, locked.group());
                }
                try (ResultSet resultSet = lock.executeQuery()) {
                    assertThat(resultSet.next()).isTrue();
                }
            }

            // run elsewhere so that a claim waiting for the lock fails here instead of blocking this thread
            List<StoredMessage> claimed = assertTimeoutPreemptively(
                    Duration.ofSeconds(10), () -> storage.claimDue(kind, now, now.plus(LEASE), 10));
            assertThat(keys(claimed)).containsExactly(key(second), key(third));
            other.rollback();
        }

        assertThat(keys(storage.claimDue(kind, now, now.plus(LEASE), 10))).containsExactly(key(locked));
    }

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void anExpiredClaimIsReclaimedAndTheStaleWorkersOutcomeIsRefused(MessageKind kind) {
        StoredMessage row = message(kind, clock.instant());
        insert(kind, row);

        Instant firstLease = clock.instant().plus(LEASE);
        StoredMessage first = single(storage.claimDue(kind, clock.instant(), firstLease, 10));
        assertThat(first.id()).isEqualTo(row.id());
        assertThat(first.nextAttemptAt())
                .as("the claim moves the due time to the lease")
                .isEqualTo(firstLease);
        assertThat(first.version()).isNotEqualTo(row.version());
        assertThat(storage.find(kind, row.id(), row.group()))
                .as("the row as claimed")
                .contains(first);

        clock.set(firstLease.minusMillis(1));
        assertThat(storage.claimDue(kind, clock.instant(), clock.instant().plus(LEASE), 10))
                .as("still leased")
                .isEmpty();

        Instant now = clock.advance(Duration.ofMillis(2));
        StoredMessage second = single(storage.claimDue(kind, now, now.plus(LEASE), 10));
        assertThat(second.version()).as("a newer version").isGreaterThan(first.version());
        assertThat(second.nextAttemptAt()).isEqualTo(now.plus(LEASE));

        MessageOutcome stale = MessageOutcome.succeeded(first, 1, now.plus(Duration.ofDays(1)));
        assertThat(storage.complete(kind, List.of(stale)))
                .as("fenced off by the newer claim")
                .isEmpty();
        assertThat(storage.find(kind, row.id(), row.group())).contains(second);

        MessageOutcome current = MessageOutcome.retrying(second, 1, now.plus(Duration.ofMinutes(1)), "timeout");
        assertThat(storage.complete(kind, List.of(stale, current))).containsExactly(current);
        StoredMessage stored = storage.find(kind, row.id(), row.group()).orElseThrow();
        assertThat(stored.status()).isEqualTo(MessageStatus.RETRYING);
        assertThat(stored.lastError()).isEqualTo("timeout");
        assertThat(stored.version()).isNotEqualTo(second.version());
        assertThat(storage.complete(kind, List.of(current)))
                .as("an outcome changes the version too: the same outcome cannot be written twice")
                .isEmpty();
    }

    @Test
    void aClaimRolledBackAsADeadlockVictimIsMadeAgainUpToThreeTimes() {
        StoredMessage row = message(PUBLISHED, clock.instant());
        insert(PUBLISHED, row);
        Instant now = clock.instant();

        try (FailuresInstalled failures = new FailuresInstalled(failingUpdates(table(PUBLISHED), 4, "40001"))) {
            assertThatThrownBy(() -> storage.claimDue(PUBLISHED, now, now.plus(LEASE), 10))
                    .as("rolled back three times in a row")
                    .isInstanceOf(OutboxException.class)
                    .hasRootCauseInstanceOf(SQLException.class)
                    .hasMessageContaining(table(PUBLISHED));
            assertThat(storage.find(PUBLISHED, row.id(), null))
                    .as("no claim landed")
                    .contains(row);

            StoredMessage claimed = single(storage.claimDue(PUBLISHED, now, now.plus(LEASE), 10));
            assertThat(claimed.id()).as("rolled back once, then made again").isEqualTo(row.id());
            assertThat(claimed.nextAttemptAt()).isEqualTo(now.plus(LEASE));
        }
    }

    @Test
    void aClaimFailingForAnotherReasonIsNotMadeAgain() {
        StoredMessage row = message(PUBLISHED, clock.instant());
        insert(PUBLISHED, row);
        Instant now = clock.instant();

        try (FailuresInstalled failures = new FailuresInstalled(failingUpdates(table(PUBLISHED), 1, "45000"))) {
            assertThatThrownBy(() -> storage.claimDue(PUBLISHED, now, now.plus(LEASE), 10))
                    .isInstanceOf(OutboxException.class);
            assertThat(storage.find(PUBLISHED, row.id(), null)).contains(row);

            assertThat(single(storage.claimDue(PUBLISHED, now, now.plus(LEASE), 10))
                            .id())
                    .as("the next claim")
                    .isEqualTo(row.id());
        }
    }

    // --- outcomes ----------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void completeRecordsRetriesThenAFinalStatus(MessageKind kind) {
        StoredMessage row = message(kind, clock.instant());
        insert(kind, row);
        StoredMessage claimed =
                single(storage.claimDue(kind, clock.instant(), clock.instant().plus(LEASE), 10));

        Instant retryAt = clock.instant().plus(Duration.ofMinutes(4));
        MessageOutcome retry = MessageOutcome.retrying(claimed, 3, retryAt, "broker unavailable");
        assertThat(storage.complete(kind, List.of(retry))).containsExactly(retry);
        StoredMessage retrying = storage.find(kind, row.id(), row.group()).orElseThrow();
        assertThat(state(retrying)).containsExactly(MessageStatus.RETRYING, 3, retryAt, null, "broker unavailable");
        assertThat(retrying.version()).isNotEqualTo(claimed.version());
        assertThat(retrying)
                .usingRecursiveComparison()
                .comparingOnlyFields("topic", "key", "headers", "payload", "addedAt")
                .isEqualTo(row);

        clock.set(retryAt.minusMillis(1));
        assertThat(storage.claimDue(kind, clock.instant(), clock.instant().plus(LEASE), 10))
                .isEmpty();
        clock.set(retryAt);
        StoredMessage again = single(storage.claimDue(kind, retryAt, retryAt.plus(LEASE), 10));
        assertThat(again.status()).isEqualTo(MessageStatus.RETRYING);
        assertThat(again.attempts()).isEqualTo(3);

        String huge = "stack trace line é\n".repeat(10_000);
        Instant failedExpiry = retryAt.plus(Duration.ofDays(15));
        MessageOutcome fail = MessageOutcome.failed(again, 50, failedExpiry, huge);
        assertThat(storage.complete(kind, List.of(fail))).containsExactly(fail);
        StoredMessage failed = storage.find(kind, row.id(), row.group()).orElseThrow();
        assertThat(failed)
                .extracting(
                        StoredMessage::status,
                        StoredMessage::attempts,
                        StoredMessage::nextAttemptAt,
                        StoredMessage::expiresAt)
                .containsExactly(MessageStatus.FAILED, 50, null, failedExpiry);
        assertThat(failed.lastError()).as("truncated").isNotEmpty().hasSizeLessThan(huge.length());
        assertThat(huge).startsWith(failed.lastError());

        Instant farFuture = retryAt.plus(Duration.ofDays(400));
        assertThat(storage.claimDue(kind, farFuture, farFuture.plus(LEASE), 10))
                .as("a final row is never due")
                .isEmpty();
    }

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void aBatchOfOutcomesIsWrittenRowByRowExactly(MessageKind kind) {
        List<StoredMessage> claimed = insertAndClaim(kind, 4);
        Instant base = clock.instant().plusNanos(123_456_000); // microseconds, as the columns keep them
        MessageOutcome success = MessageOutcome.succeeded(claimed.get(0), 1, base.plus(Duration.ofHours(24)));
        MessageOutcome retry = MessageOutcome.retrying(claimed.get(1), 3, base.plus(Duration.ofMinutes(4)), "down");
        MessageOutcome fail = MessageOutcome.failed(claimed.get(2), 50, base.plus(Duration.ofDays(15)), "gave up");
        StoredMessage staleRow = claimed.get(3);
        Instant now = clock.instant();
        assertThat(storage.complete(
                        kind,
                        List.of(MessageOutcome.succeeded(
                                storage.find(kind, staleRow.id(), staleRow.group())
                                        .orElseThrow(),
                                1,
                                now.plus(Duration.ofHours(1))))))
                .hasSize(1);
        MessageOutcome stale = MessageOutcome.succeeded(staleRow, 1, now.plus(Duration.ofHours(2)));

        assertThat(storage.complete(kind, List.of(success, retry, stale, fail)))
                .as("every outcome but the one fenced off")
                .containsExactly(success, retry, fail);

        assertThat(state(storage.find(kind, success.id(), success.group()).orElseThrow()))
                .containsExactly(MessageStatus.SUCCEEDED, 1, null, success.expiresAt(), null);
        assertThat(state(storage.find(kind, retry.id(), retry.group()).orElseThrow()))
                .containsExactly(MessageStatus.RETRYING, 3, retry.nextAttemptAt(), null, "down");
        assertThat(state(storage.find(kind, fail.id(), fail.group()).orElseThrow()))
                .containsExactly(MessageStatus.FAILED, 50, null, fail.expiresAt(), "gave up");
        assertThat(storage.find(kind, staleRow.id(), staleRow.group())
                        .orElseThrow()
                        .expiresAt())
                .as("the fenced-off outcome changed nothing")
                .isEqualTo(now.plus(Duration.ofHours(1)));
    }

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void outcomesWithTheSameValuesAreEachWrittenToTheirOwnRow(MessageKind kind) {
        List<StoredMessage> claimed = insertAndClaim(kind, 5);
        Instant expiry = clock.instant().plus(Duration.ofHours(24));
        Instant next = clock.instant().plus(Duration.ofMinutes(4));
        List<MessageOutcome> outcomes = List.of(
                MessageOutcome.succeeded(claimed.get(0), 1, expiry),
                MessageOutcome.retrying(claimed.get(1), 3, next, "down"),
                MessageOutcome.succeeded(claimed.get(2), 1, expiry),
                MessageOutcome.retrying(claimed.get(3), 3, next, "down"),
                MessageOutcome.succeeded(claimed.get(4), 1, expiry));

        assertThat(storage.complete(kind, outcomes)).containsExactlyElementsOf(outcomes);

        for (MessageOutcome outcome : outcomes) {
            StoredMessage row =
                    storage.find(kind, outcome.id(), outcome.group()).orElseThrow();
            assertThat(state(row))
                    .containsExactly(
                            outcome.status(),
                            outcome.attempts(),
                            outcome.nextAttemptAt(),
                            outcome.expiresAt(),
                            outcome.lastError());
            assertThat(row.version()).isGreaterThan(outcome.expectedVersion());
        }
    }

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void aSuccessClearsTheErrorAndTheDueTime(MessageKind kind) {
        StoredMessage row = message(kind, clock.instant());
        insert(kind, row);
        StoredMessage claimed =
                single(storage.claimDue(kind, clock.instant(), clock.instant().plus(LEASE), 10));
        MessageOutcome retry = MessageOutcome.retrying(claimed, 1, clock.instant(), "first try failed");
        assertThat(storage.complete(kind, List.of(retry))).containsExactly(retry);
        StoredMessage reclaimed =
                single(storage.claimDue(kind, clock.instant(), clock.instant().plus(LEASE), 10));

        Instant expiry = clock.instant().plus(Duration.ofHours(24));
        MessageOutcome success = MessageOutcome.succeeded(reclaimed, 2, expiry);
        assertThat(storage.complete(kind, List.of(success))).containsExactly(success);

        StoredMessage succeeded = storage.find(kind, row.id(), row.group()).orElseThrow();
        assertThat(state(succeeded)).containsExactly(MessageStatus.SUCCEEDED, 2, null, expiry, null);
    }

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void completeOnTheCallersConnectionJoinsItsTransaction(MessageKind kind) throws SQLException {
        StoredMessage row = message(kind, clock.instant());
        insert(kind, row);
        StoredMessage claimed =
                single(storage.claimDue(kind, clock.instant(), clock.instant().plus(LEASE), 10));
        MessageOutcome success =
                MessageOutcome.succeeded(claimed, 1, clock.instant().plus(Duration.ofHours(24)));

        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            assertThat(storage.complete(connection, kind, List.of(success))).containsExactly(success);
            connection.rollback();
        }
        assertThat(storage.find(kind, row.id(), row.group())).as("rolled back").contains(claimed);

        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            assertThat(storage.complete(connection, kind, List.of(success))).containsExactly(success);
            assertThat(storage.find(kind, row.id(), row.group()))
                    .as("not visible to others before the caller commits")
                    .contains(claimed);
            connection.commit();
        }
        assertThat(storage.find(kind, row.id(), row.group()))
                .map(StoredMessage::status)
                .contains(MessageStatus.SUCCEEDED);
    }

    @Test
    void anOutcomeOfOneGroupLeavesTheOtherGroupsRowAlone() {
        StoredMessage inventory = message(RECEIVED, clock.instant());
        StoredMessage membership = StoredMessage.pending(
                inventory.id(),
                OTHER_GROUP,
                inventory.topic(),
                null,
                Map.of(),
                inventory.payload(),
                clock.instant(),
                clock.instant());
        insert(RECEIVED, inventory, membership);
        List<StoredMessage> claimed =
                storage.claimDue(RECEIVED, clock.instant(), clock.instant().plus(LEASE), 10);
        assertThat(claimed).extracting(StoredMessage::group).containsExactlyInAnyOrder(GROUP, OTHER_GROUP);
        StoredMessage inventoryClaim = claimed.stream()
                .filter(m -> GROUP.equals(m.group()))
                .findFirst()
                .orElseThrow();
        StoredMessage membershipClaim = claimed.stream()
                .filter(m -> OTHER_GROUP.equals(m.group()))
                .findFirst()
                .orElseThrow();

        MessageOutcome success =
                MessageOutcome.succeeded(inventoryClaim, 1, clock.instant().plus(Duration.ofDays(1)));
        assertThat(storage.complete(RECEIVED, List.of(success))).containsExactly(success);

        assertThat(storage.find(RECEIVED, inventory.id(), GROUP))
                .map(StoredMessage::status)
                .contains(MessageStatus.SUCCEEDED);
        assertThat(storage.find(RECEIVED, inventory.id(), OTHER_GROUP)).contains(membershipClaim);
    }

    // --- cleanup -----------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void purgeExpiredDeletesOnlyExpiredFinalRowsAtMostLimitPerCall(MessageKind kind) {
        Instant now = clock.instant();
        List<StoredMessage> expired = List.of(
                finalRow(kind, MessageStatus.SUCCEEDED, now.minusMillis(1)),
                finalRow(kind, MessageStatus.SUCCEEDED, now.minusSeconds(10)),
                finalRow(kind, MessageStatus.SUCCEEDED, now.minus(Duration.ofDays(2))),
                finalRow(kind, MessageStatus.FAILED, now.minus(Duration.ofDays(20))));
        List<StoredMessage> kept = List.of(
                finalRow(kind, MessageStatus.SUCCEEDED, now),
                finalRow(kind, MessageStatus.FAILED, now.plus(Duration.ofDays(15))),
                message(kind, now.minus(Duration.ofDays(30))));
        expired.forEach(message -> insert(kind, message));
        kept.forEach(message -> insert(kind, message));
        MessageKind otherKind = kind == PUBLISHED ? RECEIVED : PUBLISHED;
        StoredMessage otherTable = finalRow(otherKind, MessageStatus.SUCCEEDED, now.minusSeconds(1));
        insert(otherKind, otherTable);

        assertThat(storage.purgeExpired(kind, now, 3)).isEqualTo(3);
        assertThat(storage.purgeExpired(kind, now, 3)).isEqualTo(1);
        assertThat(storage.purgeExpired(kind, now, 3)).isZero();

        for (StoredMessage message : expired) {
            assertThat(storage.find(kind, message.id(), message.group())).isEmpty();
        }
        for (StoredMessage message : kept) {
            assertThat(storage.find(kind, message.id(), message.group())).contains(message);
        }
        assertThat(count(kind)).isEqualTo(kept.size());
        assertThat(storage.find(otherKind, otherTable.id(), otherTable.group())).contains(otherTable);
    }

    // --- operations ----------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void operationsCountBrowseRequeueAndDelete(MessageKind kind) {
        Instant now = clock.instant();
        StoredMessage due = message(kind, now.minusSeconds(5));
        StoredMessage later = message(kind, now.plusSeconds(60));
        StoredMessage succeeded = finalRow(kind, MessageStatus.SUCCEEDED, now.plus(Duration.ofDays(1)));
        StoredMessage failed = finalRow(kind, MessageStatus.FAILED, now.plus(Duration.ofDays(15)));
        insert(kind, due, later, succeeded, failed);

        assertThat(storage.countByStatus(kind))
                .containsOnly(
                        Map.entry(MessageStatus.PENDING, 2L),
                        Map.entry(MessageStatus.SUCCEEDED, 1L),
                        Map.entry(MessageStatus.FAILED, 1L));
        assertThat(storage.countPending(kind)).isEqualTo(2);
        assertThat(storage.countFailed(kind)).isEqualTo(1);
        assertThat(storage.oldestPending(kind)).contains(due.addedAt());

        assertThat(storage.browse(kind, MessageStatus.FAILED, null, 0, 10)).containsExactly(failed);
        assertThat(storage.browse(kind, null, "order.paid", 0, 10)).hasSize(4);
        assertThat(storage.browse(kind, null, "no.such.topic", 0, 10)).isEmpty();
        assertThat(storage.browse(kind, null, null, 0, 3)).hasSize(3);
        assertThat(storage.browse(kind, null, null, 3, 3)).hasSize(1);

        assertThat(storage.requeue(kind, succeeded.id(), succeeded.group(), now))
                .as("only FAILED rows are requeued")
                .isFalse();
        assertThat(storage.requeue(kind, failed.id(), failed.group(), now)).isTrue();
        StoredMessage requeued = storage.find(kind, failed.id(), failed.group()).orElseThrow();
        assertThat(requeued.status()).isEqualTo(MessageStatus.RETRYING);
        assertThat(requeued.attempts()).isZero();
        assertThat(requeued.nextAttemptAt()).isEqualTo(now);
        assertThat(requeued.expiresAt()).isNull();
        assertThat(requeued.version()).isGreaterThan(failed.version());
        assertThat(keys(storage.claimDue(kind, now, now.plus(LEASE), 10)))
                .containsExactlyInAnyOrder(key(due), key(failed));

        assertThat(storage.delete(kind, succeeded.id(), succeeded.group())).isTrue();
        assertThat(storage.delete(kind, succeeded.id(), succeeded.group())).isFalse();
        assertThat(storage.find(kind, succeeded.id(), succeeded.group())).isEmpty();
        assertThat(count(kind)).isEqualTo(3);
    }

    @ParameterizedTest
    @EnumSource(MessageKind.class)
    void anEmptyTableHasNoOldestPendingRow(MessageKind kind) {
        assertThat(storage.oldestPending(kind)).isEmpty();
        assertThat(storage.countPending(kind)).isZero();
        assertThat(storage.countFailed(kind)).isZero();
        assertThat(storage.countByStatus(kind)).isEmpty();
    }

    // --- schema ------------------------------------------------------------------------------------------

    @Test
    void initializeIsIdempotentAndKeepsTheRows() {
        StoredMessage row = message(PUBLISHED, clock.instant());
        insert(PUBLISHED, row);

        storage.initialize();
        createStorage(dataSource, tables.options()).initialize();

        assertThat(storage.find(PUBLISHED, row.id(), null)).contains(row);
    }

    @Test
    void twoInstancesStartingTogetherBothInitialize() throws Exception {
        try (TestTables fresh = TestTables.create(dataSource)) {
            CyclicBarrier start = new CyclicBarrier(2);
            Callable<Void> instance = () -> {
                OutboxStorage own = createStorage(dataSource, fresh.options());
                start.await(10, TimeUnit.SECONDS);
                own.initialize();
                return null;
            };
            ExecutorService instances = Executors.newFixedThreadPool(2);
            try {
                Future<Void> a = instances.submit(instance);
                Future<Void> b = instances.submit(instance);
                a.get(30, TimeUnit.SECONDS);
                b.get(30, TimeUnit.SECONDS);
            } finally {
                instances.shutdownNow();
            }
            assertThat(tableExists(fresh.publishedTable())).isTrue();
            assertThat(tableExists(fresh.receivedTable())).isTrue();
        }
    }

    @Test
    void withoutSchemaInitializationNothingIsCreatedAndMissingTablesAreReported() {
        try (TestTables fresh = TestTables.create(dataSource)) {
            OutboxStorage unmanaged = createStorage(
                    dataSource, fresh.optionsBuilder().initializeSchema(false).build());

            assertThatThrownBy(unmanaged::initialize)
                    .isInstanceOf(OutboxException.class)
                    .hasMessageContaining(fresh.publishedTable())
                    .hasMessageContaining("outbox.storage.initialize-schema");
            assertThat(tableExists(fresh.publishedTable())).isFalse();
            assertThat(tableExists(fresh.receivedTable())).isFalse();

            // as after a Flyway migration with the shipped script
            createStorage(dataSource, fresh.options()).initialize();
            unmanaged.initialize();
            StoredMessage row = message(PUBLISHED, clock.instant());
            inTransaction(connection -> unmanaged.insertPublished(connection, row));
            assertThat(unmanaged.find(PUBLISHED, row.id(), null)).contains(row);
        }
    }

    @Test
    void anInvalidTableNameIsRejectedBeforeAnySqlRuns() {
        String injection = "x; drop table " + tables.receivedTable();

        assertThatThrownBy(() -> createStorage(
                                dataSource,
                                StorageOptions.builder()
                                        .publishedTable(injection)
                                        .build())
                        .initialize())
                .isInstanceOf(OutboxConfigurationException.class)
                .hasMessageContaining("outbox.storage.published-table");
        assertThat(tableExists(tables.receivedTable())).isTrue();
    }

    // --- helpers -----------------------------------------------------------------------------------------

    /** A pending row with a random id due at {@code due}; received rows belong to {@link #GROUP}. */
    /** Status, attempts, next attempt time, expiry and last error of a row, to compare in one assertion. */
    private static List<Object> state(StoredMessage message) {
        return Arrays.asList(
                message.status(),
                message.attempts(),
                message.nextAttemptAt(),
                message.expiresAt(),
                message.lastError());
    }

    private StoredMessage message(MessageKind kind, Instant due) {
        String id = UUID.randomUUID().toString();
        return StoredMessage.pending(
                id,
                group(kind),
                "order.paid",
                "order-42",
                Map.of(OutboxHeaders.MESSAGE_ID, id),
                "{\"orderId\":42}",
                clock.instant(),
                due);
    }

    private StoredMessage finalRow(MessageKind kind, MessageStatus status, Instant expiresAt) {
        return new StoredMessage(
                UUID.randomUUID().toString(),
                group(kind),
                "order.paid",
                null,
                Map.of(),
                "{}",
                status,
                1,
                clock.instant().minus(Duration.ofDays(30)),
                null,
                expiresAt,
                status == MessageStatus.FAILED ? "gave up" : null,
                2);
    }

    private static String group(MessageKind kind) {
        return kind == RECEIVED ? GROUP : null;
    }

    /** Inserts {@code count} messages due now and claims them all. */
    private List<StoredMessage> insertAndClaim(MessageKind kind, int count) {
        for (int i = 0; i < count; i++) {
            insert(kind, message(kind, clock.instant()));
        }
        List<StoredMessage> claimed =
                storage.claimDue(kind, clock.instant(), clock.instant().plus(LEASE), count + 5);
        assertThat(claimed).hasSize(count);
        return claimed;
    }

    private void insert(MessageKind kind, StoredMessage... messages) {
        if (kind == PUBLISHED) {
            inTransaction(connection -> {
                for (StoredMessage message : messages) {
                    storage.insertPublished(connection, message);
                }
            });
        } else {
            for (StoredMessage message : messages) {
                assertThat(storage.insertReceived(message))
                        .as("stored " + key(message))
                        .isTrue();
            }
        }
    }

    private static String key(StoredMessage message) {
        return message.group() == null ? message.id() : message.id() + "/" + message.group();
    }

    private static List<String> keys(List<StoredMessage> messages) {
        return messages.stream().map(OutboxStorageContract::key).toList();
    }

    private static StoredMessage single(List<StoredMessage> messages) {
        assertThat(messages).hasSize(1);
        return messages.get(0);
    }

    private String table(MessageKind kind) {
        return kind == PUBLISHED ? tables.publishedTable() : tables.receivedTable();
    }

    private int count(MessageKind kind) {
        return countWhere(kind, "1 = 1");
    }

    private int countWhere(MessageKind kind, String condition) {
        try (Connection connection = dataSource.getConnection()) {
            return count(connection, kind, condition);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private int count(Connection connection, MessageKind kind) throws SQLException {
        return count(connection, kind, "1 = 1");
    }

    private int count(Connection connection, MessageKind kind, String condition) throws SQLException {
        try (PreparedStatement statement =
                        connection.prepareStatement("SELECT COUNT(*) FROM " + table(kind) + " WHERE " + condition);
                ResultSet resultSet = statement.executeQuery()) {
            resultSet.next();
            return resultSet.getInt(1);
        }
    }

    private boolean tableExists(String table) {
        try (Connection connection = dataSource.getConnection();
                ResultSet tables = connection
                        .getMetaData()
                        .getTables(connection.getCatalog(), null, table, new String[] {"TABLE"})) {
            while (tables.next()) {
                if (tables.getString("TABLE_NAME").equalsIgnoreCase(table)) {
                    return true;
                }
            }
            return false;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Installed {@link FailingUpdates}; closing removes them. */
    private final class FailuresInstalled implements AutoCloseable {
        private final FailingUpdates failures;

        FailuresInstalled(FailingUpdates failures) {
            this.failures = failures;
            executeEach(failures.install());
        }

        @Override
        public void close() {
            executeEach(failures.remove());
        }
    }

    private void executeEach(List<String> statements) {
        inTransaction(connection -> {
            try (Statement statement = connection.createStatement()) {
                for (String sql : statements) {
                    statement.execute(sql);
                }
            }
        });
    }

    @FunctionalInterface
    private interface SqlWork {
        void run(Connection connection) throws SQLException;
    }

    /** Runs {@code work} in a transaction of its own and commits it; rolls back if it throws. */
    private void inTransaction(SqlWork work) {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                work.run(connection);
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.github.outbox4j.internal;

import static io.github.outbox4j.MessageKind.PUBLISHED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.testing.InMemoryOutboxStorage;
import io.github.outbox4j.testing.MutableClock;
import io.github.outbox4j.testing.RecordingAlertListener;
import io.github.outbox4j.testing.TestRows;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60) // a hang guard: an engine bug must fail the test, not stall the build
class DispatcherTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    /** A hang guard for calls that must not block, not a performance bound. */
    private static final Duration NO_HANG = Duration.ofSeconds(10);

    private final MutableClock clock = new MutableClock(T0);
    private final InMemoryOutboxStorage storage = new InMemoryOutboxStorage();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService broker = Executors.newFixedThreadPool(2);
    private final List<Dispatcher> dispatchers = new ArrayList<>();
    private final List<Sent> sent = new CopyOnWriteArrayList<>();
    private volatile Function<StoredMessage, CompletionStage<Void>> answer =
            message -> CompletableFuture.completedFuture(null);

    /** One attempt as the fake broker saw it. */
    private record Sent(String id, String key, String thread) {}

    @AfterEach
    void stop() {
        dispatchers.forEach(dispatcher -> dispatcher.close(Duration.ofSeconds(1)));
        broker.shutdownNow();
        timer.shutdownNow();
    }

    @Test
    void sendsOfferedMessagesInOrderAndRecordsEveryOutcome() {
        Dispatcher dispatcher = dispatcher(1, 100, 10);
        List<StoredMessage> rows = committedRows(35, null);
        rows.forEach(row -> assertThat(dispatcher.offer(row)).isTrue());

        dispatcher.start();

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED))
                        .isEqualTo(35));
        assertThat(storage.completeSizes().stream().mapToInt(Integer::intValue).sum())
                .isEqualTo(35);
        assertThat(sent).extracting(Sent::id).containsExactlyElementsOf(ids(rows));
    }

    @Test
    void aLaneGoesOnSendingWhileAnOutcomeWriteRunsAndTheBatchesThatWaitedAreWrittenTogether() {
        CompletableFuture<Void> writes = new CompletableFuture<>();
        storage.holdCompletesUntil(writes);
        Dispatcher dispatcher = dispatcher(1, 100, 30);
        List<StoredMessage> rows = committedRows(40, null);
        rows.subList(0, 10).forEach(dispatcher::offer);
        dispatcher.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> storage.completesEntered() == 1);

        // the lane sends while the first batch's write is held: one message, then (queued meanwhile) 29 more
        CompletableFuture<Void> laneBusy = new CompletableFuture<>();
        String oneMessage = rows.get(10).id();
        answer = message -> {
            if (message.id().equals(oneMessage)) {
                laneBusy.join(); // sends start on the lane's thread
            }
            return CompletableFuture.completedFuture(null);
        };
        dispatcher.offer(rows.get(10));
        await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 11);
        rows.subList(11, 40).forEach(dispatcher::offer);
        laneBusy.complete(null);

        await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 40);
        assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED)).isZero();
        writes.complete(null);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED))
                        .isEqualTo(40));
        assertThat(storage.completeSizes()).containsExactly(10, 30);
    }

    @Test
    void aLaneWaitsWhenItHasItsLimitOfMessagesSentAndNotAcknowledged() {
        answer = message -> new CompletableFuture<>(); // the broker never answers
        Dispatcher dispatcher = dispatcher(1, 1_000, 10);
        committedRows(100, null).forEach(dispatcher::offer);

        dispatcher.start();

        int limit = 10 * Dispatcher.SENDING_BATCHES_PER_LANE;
        await().atMost(Duration.ofSeconds(10))
                .during(Duration.ofMillis(300))
                .untilAsserted(() -> assertThat(sent).hasSize(limit));
    }

    @Test
    void smallBatchesDoNotUseUpTheLimitBeforeItsMessagesDo() {
        answer = message -> new CompletableFuture<>(); // the broker never answers
        Dispatcher dispatcher = dispatcher(1, 1_000, 10);
        List<StoredMessage> rows = committedRows(50, null);
        dispatcher.start();

        // one message at a time: each is a batch of one, as at a low rate
        int limit = 10 * Dispatcher.SENDING_BATCHES_PER_LANE;
        for (int i = 0; i < limit; i++) {
            dispatcher.offer(rows.get(i));
            int sends = i + 1;
            await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == sends);
        }
        rows.subList(limit, 50).forEach(dispatcher::offer);

        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10)).until(() -> sent.size() == limit);
    }

    @Test
    void whileTheDatabaseStallsALaneSendsOnUntilTheQueueCapacityOfOutcomesWaits() {
        CompletableFuture<Void> database = new CompletableFuture<>();
        storage.holdCompletesUntil(database);
        int capacity = 60; // above the limit of messages waiting for the broker: 4 batches of 10
        Dispatcher dispatcher = dispatcher(1, capacity, 10);
        List<StoredMessage> rows = committedRows(90, null);
        rows.subList(0, capacity)
                .forEach(row -> assertThat(dispatcher.offer(row)).isTrue());

        dispatcher.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == capacity);
        assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED)).isZero();
        rows.subList(capacity, 90)
                .forEach(row -> assertThat(dispatcher.offer(row)).isTrue());
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10)).until(() -> sent.size() == capacity);

        database.complete(null);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED))
                        .isEqualTo(90));
        assertThat(dispatcher.overflowed()).isZero();
    }

    @Test
    void fullQueueRefusesAtOnceAndCountsTheOverflow() {
        Dispatcher dispatcher = dispatcher(2, 4, 10); // two lanes of two
        List<StoredMessage> rows = committedRows(6, null);

        assertTimeoutPreemptively(NO_HANG, () -> {
            for (int i = 0; i < 4; i++) {
                assertThat(dispatcher.offer(rows.get(i))).as("offer %d", i).isTrue();
            }
            assertThat(dispatcher.offer(rows.get(4))).isFalse();
            assertThat(dispatcher.offer(rows.get(5))).isFalse();
        });

        assertThat(dispatcher.overflowed()).isEqualTo(2);
    }

    @Test
    void publisherIsNeverBlockedByASlowBroker() {
        CompletableFuture<Void> brokerAnswer = new CompletableFuture<>();
        answer = message -> brokerAnswer;
        Dispatcher dispatcher = dispatcher(1, 2, 1);
        List<StoredMessage> rows = committedRows(14, null);
        dispatcher.start();
        int unanswered = Dispatcher.SENDING_BATCHES_PER_LANE;
        for (int i = 0; i < unanswered; i++) {
            dispatcher.offer(rows.get(i));
            int sends = i + 1;
            await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == sends);
        }

        // the lane now waits for the broker; its queue of two takes two more (three if the lane took one)
        int accepted = assertTimeoutPreemptively(NO_HANG, () -> (int)
                rows.subList(unanswered, 14).stream().filter(dispatcher::offer).count());
        assertThat(accepted).isBetween(2, 3);
        assertThat(dispatcher.overflowed()).isEqualTo(14 - unanswered - accepted);

        brokerAnswer.complete(null);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED))
                        .isEqualTo(unanswered + accepted));
        StoredMessage overflowed = storage.published(rows.get(13).id());
        assertThat(overflowed.status())
                .as("left, committed, to the retry processor")
                .isEqualTo(MessageStatus.PENDING);
        assertThat(overflowed.nextAttemptAt()).isEqualTo(T0.plus(RetryPolicy.DEFAULT_FIRST_DELAY));
    }

    @Test
    void messagesOfOneKeyStayInOneLaneAndInOrder() {
        answer = message -> CompletableFuture.runAsync(() -> {}, broker); // answers come back on other threads
        Dispatcher dispatcher = dispatcher(4, 10_000, 7);
        dispatcher.start();
        List<StoredMessage> rows = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            String key = "order-" + (i % 10);
            StoredMessage row = TestRows.pending(String.format("%s-%03d", key, i), key, T0, firstDelayAfter(T0));
            storage.insertPublished(null, row);
            rows.add(row);
        }

        rows.forEach(dispatcher::offer);

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED))
                        .isEqualTo(400));
        Map<String, List<Sent>> byKey = sent.stream().collect(Collectors.groupingBy(Sent::key));
        assertThat(byKey).hasSize(10);
        byKey.forEach((key, sends) -> {
            assertThat(sends)
                    .extracting(Sent::thread)
                    .as("lanes of %s", key)
                    .containsOnly(sends.get(0).thread());
            assertThat(sends)
                    .extracting(Sent::id)
                    .as("order of %s", key)
                    .isSortedAccordingTo(String::compareTo)
                    .hasSize(40);
        });
        assertThat(sent.stream().map(Sent::thread).distinct()).as("lanes used").hasSizeGreaterThan(1);
    }

    @Test
    void messagesWithoutKeyAreSpreadOverTheLanes() {
        Dispatcher dispatcher = dispatcher(4, 100, 10);
        committedRows(8, null).forEach(dispatcher::offer);

        dispatcher.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 8);
        Map<String, Long> perLane = sent.stream().collect(Collectors.groupingBy(Sent::thread, Collectors.counting()));
        assertThat(perLane)
                .hasSize(4)
                .allSatisfy((thread, count) -> assertThat(count).isEqualTo(2));
        assertThat(perLane.keySet()).allSatisfy(thread -> assertThat(thread).startsWith("outbox-dispatcher-"));
    }

    @Test
    void aMessageQueuedPastItsFirstDelayIsLeftToTheRetryProcessor() {
        Dispatcher dispatcher = dispatcher(1, 100, 10);
        List<StoredMessage> rows = committedRows(3, null);
        rows.forEach(dispatcher::offer);
        clock.set(firstDelayAfter(T0)); // the lane was stuck until the rows became due for the retry processor
        StoredMessage fresh = TestRows.pending("fresh", null, clock.instant(), firstDelayAfter(clock.instant()));
        storage.insertPublished(null, fresh);
        dispatcher.offer(fresh);

        dispatcher.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> storage.count(PUBLISHED, MessageStatus.SUCCEEDED) == 1);
        assertThat(sent).extracting(Sent::id).containsExactly("fresh");
        assertThat(storage.published(rows.get(0).id()).status()).isEqualTo(MessageStatus.PENDING);
    }

    @Test
    void closeDrainsWhatIsQueued() {
        answer = message -> CompletableFuture.runAsync(() -> {}, broker);
        Dispatcher dispatcher = dispatcher(2, 1_000, 10);
        List<StoredMessage> rows = committedRows(200, null);
        rows.forEach(dispatcher::offer);
        dispatcher.start();

        dispatcher.close(Duration.ofSeconds(30));

        assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED)).isEqualTo(200);
        assertThat(dispatcher.offer(TestRows.pending("late", null, T0, T0))).isFalse();
        assertThat(dispatcher.overflowed())
                .as("refused while closing is no overflow")
                .isZero();
    }

    @Test
    void closeGivesUpAfterItsTimeoutAndLeavesTheRowForTheRetryProcessor() {
        answer = message -> new CompletableFuture<>(); // the broker never answers
        Dispatcher dispatcher = dispatcher(1, 10, 10);
        StoredMessage row = committedRows(1, null).get(0);
        dispatcher.offer(row);
        dispatcher.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> sent.size() == 1);

        assertTimeoutPreemptively(NO_HANG, () -> dispatcher.close(Duration.ofMillis(100)));

        StoredMessage left = storage.published(row.id());
        assertThat(left.status().isFinal()).isFalse();
        assertThat(left.nextAttemptAt()).isNotNull();
    }

    private List<StoredMessage> committedRows(int count, String key) {
        List<StoredMessage> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            StoredMessage row = TestRows.pending(String.format("m-%03d", i), key, T0, firstDelayAfter(T0));
            storage.insertPublished(null, row);
            rows.add(row);
        }
        return rows;
    }

    private static Instant firstDelayAfter(Instant committed) {
        return committed.plus(RetryPolicy.DEFAULT_FIRST_DELAY);
    }

    private static List<String> ids(List<StoredMessage> rows) {
        return rows.stream().map(StoredMessage::id).toList();
    }

    private Dispatcher dispatcher(int lanes, int capacity, int batchSize) {
        MessageProcessor processor = new MessageProcessor(
                PUBLISHED,
                storage,
                RetryPolicy.builder().immediateBackoff(Duration.ZERO).build(),
                (message, attempt) -> {
                    sent.add(new Sent(
                            message.id(), message.key(), Thread.currentThread().getName()));
                    return answer.apply(message);
                },
                new AlertDispatcher(List.of(new RecordingAlertListener()), Duration.ofMinutes(5), clock),
                clock,
                timer,
                Duration.ofMinutes(1),
                Duration.ofHours(24),
                Duration.ofDays(15),
                OutboxObserver.NONE);
        Dispatcher dispatcher = new Dispatcher(processor, lanes, capacity, batchSize, clock);
        dispatchers.add(dispatcher);
        return dispatcher;
    }
}

package io.github.outbox4j.internal;

import static io.github.outbox4j.MessageKind.PUBLISHED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxAlert;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.OutboxSerializationException;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.testing.InMemoryOutboxStorage;
import io.github.outbox4j.testing.LogCapture;
import io.github.outbox4j.testing.MutableClock;
import io.github.outbox4j.testing.RecordingAlertListener;
import io.github.outbox4j.testing.TestRows;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60) // a hang guard: an engine bug must fail the test, not stall the build
class MessageProcessorTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Duration LEASE = Duration.ofMinutes(2);
    private static final Duration SUCCEEDED_RETENTION = Duration.ofHours(24);
    private static final Duration FAILED_RETENTION = Duration.ofDays(15);
    private static final RetryPolicy POLICY =
            RetryPolicy.builder().immediateBackoff(Duration.ZERO).build();

    private final MutableClock clock = new MutableClock(T0);
    private final InMemoryOutboxStorage storage = new InMemoryOutboxStorage();
    private final RecordingAlertListener alerts = new RecordingAlertListener();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ScriptedAttempt attempt = new ScriptedAttempt();

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    @Test
    void rowThatAlwaysFailsIsAttemptedFiftyTimesOnTheDefaultScheduleThenFailedAndAlertedOnce() {
        attempt.answer(message -> CompletableFuture.failedFuture(new IllegalStateException("broker down")));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        StoredMessage row = TestRows.pending("m-1", null, T0, T0.plus(POLICY.firstDelay()));
        storage.insertPublished(null, row);

        process(processor, List.of(row)); // the dispatcher, right after commit

        StoredMessage afterImmediate = storage.published("m-1");
        assertThat(afterImmediate.status()).isEqualTo(MessageStatus.RETRYING);
        assertThat(afterImmediate.attempts()).isEqualTo(3);
        assertThat(afterImmediate.nextAttemptAt()).isEqualTo(T0.plus(Duration.ofMinutes(4)));
        assertThat(afterImmediate.lastError()).contains("broker down");

        List<Integer> minutesWithAClaim = new ArrayList<>();
        for (int minute = 1; minute <= 120; minute++) {
            clock.set(T0.plus(Duration.ofMinutes(minute)));
            if (pollOnce(processor) > 0) {
                minutesWithAClaim.add(minute);
            }
        }

        List<Instant> expected = new ArrayList<>(List.of(T0, T0, T0));
        IntStream.rangeClosed(4, 50).forEach(n -> expected.add(T0.plus(Duration.ofMinutes(n))));
        assertThat(attempt.times()).containsExactlyElementsOf(expected);
        assertThat(minutesWithAClaim)
                .containsExactlyElementsOf(IntStream.rangeClosed(4, 50).boxed().toList());

        StoredMessage failed = storage.published("m-1");
        assertThat(failed.status()).isEqualTo(MessageStatus.FAILED);
        assertThat(failed.attempts()).isEqualTo(50);
        assertThat(failed.lastError()).contains("IllegalStateException").contains("broker down");
        assertThat(failed.nextAttemptAt()).isNull();
        assertThat(failed.expiresAt()).isEqualTo(T0.plus(Duration.ofMinutes(50)).plus(FAILED_RETENTION));

        assertThat(alerts.alerts()).singleElement().satisfies(alert -> {
            assertThat(alert.kind()).isEqualTo(PUBLISHED);
            assertThat(alert.topic()).isEqualTo(TestRows.TOPIC);
            assertThat(alert.count()).isEqualTo(1);
            assertThat(alert.messageIds()).containsExactly("m-1");
            assertThat(alert.lastError()).contains("broker down");
            assertThat(alert.raisedAt()).isEqualTo(T0.plus(Duration.ofMinutes(50)));
        });
    }

    @Test
    void successAtTheSeventhAttemptEndsTheRetries() {
        AtomicInteger calls = new AtomicInteger();
        attempt.answer(message -> calls.incrementAndGet() < 7
                ? CompletableFuture.failedFuture(new IllegalStateException("broker down"))
                : CompletableFuture.completedFuture(null));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        StoredMessage row = TestRows.pending("m-7", "order-7", T0, T0.plus(POLICY.firstDelay()));
        storage.insertPublished(null, row);

        process(processor, List.of(row));
        for (int minute = 1; minute <= 10; minute++) {
            clock.set(T0.plus(Duration.ofMinutes(minute)));
            pollOnce(processor);
        }

        StoredMessage succeeded = storage.published("m-7");
        assertThat(succeeded.status()).isEqualTo(MessageStatus.SUCCEEDED);
        assertThat(succeeded.attempts()).isEqualTo(7);
        assertThat(succeeded.lastError()).isNull();
        assertThat(succeeded.nextAttemptAt()).isNull();
        assertThat(succeeded.expiresAt())
                .isEqualTo(T0.plus(Duration.ofMinutes(7)).plus(SUCCEEDED_RETENTION));
        assertThat(attempt.times()).last().isEqualTo(T0.plus(Duration.ofMinutes(7)));

        for (int hour = 1; hour <= 48; hour++) {
            clock.advance(Duration.ofHours(1));
            assertThat(pollOnce(processor)).as("rows claimed %d h later", hour).isZero();
        }
        assertThat(attempt.times()).hasSize(7);
        assertThat(alerts.alerts()).isEmpty();
    }

    @Test
    void successAtOnceNeedsOneAttempt() {
        attempt.answer(message -> CompletableFuture.completedFuture(null));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        StoredMessage row = TestRows.pending("m-1", null, T0, T0.plus(POLICY.firstDelay()));
        storage.insertPublished(null, row);

        process(processor, List.of(row));

        assertThat(storage.published("m-1").status()).isEqualTo(MessageStatus.SUCCEEDED);
        assertThat(storage.published("m-1").attempts()).isEqualTo(1);
        assertThat(attempt.times()).hasSize(1);
    }

    @Test
    void expiryTimesAreRoundedUpToTheSecondSoABatchSharesThem() {
        attempt.answer(message -> CompletableFuture.completedFuture(null));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        List<StoredMessage> rows = List.of(
                TestRows.pending("m-1", null, T0, T0.plus(POLICY.firstDelay())),
                TestRows.pending("m-2", null, T0, T0.plus(POLICY.firstDelay())));
        rows.forEach(row -> storage.insertPublished(null, row));

        clock.set(T0.plusMillis(1));
        MessageProcessor.Attempts first = processor.start(List.of(rows.get(0)));
        clock.set(T0.plusMillis(999));
        MessageProcessor.Attempts second = processor.start(List.of(rows.get(1)));
        processor.record(List.of(first, second));

        Instant expected = T0.plusSeconds(1).plus(SUCCEEDED_RETENTION);
        assertThat(storage.published("m-1").expiresAt()).isEqualTo(expected);
        assertThat(storage.published("m-2").expiresAt()).isEqualTo(expected);
        assertThat(MessageProcessor.expiry(T0, SUCCEEDED_RETENTION)).isEqualTo(T0.plus(SUCCEEDED_RETENTION));
    }

    @Test
    void aSentMessageIsLetGoOfBeforeItsOutcomeIsWrittenAndAFailedOneIsKeptForItsAlert() {
        attempt.answer(message -> message.id().equals("bad")
                ? CompletableFuture.failedFuture(new OutboxSerializationException("Cannot write OrderPaid", null))
                : CompletableFuture.completedFuture(null));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        Instant due = T0.plus(POLICY.firstDelay());
        storage.insertPublished(null, TestRows.pending("m-1", null, T0, due));
        storage.insertPublished(null, TestRows.pending("bad", null, T0, due));
        // equal to the stored rows but other objects, referenced by the batch alone
        WeakReference<StoredMessage> sent = new WeakReference<>(TestRows.pending("m-1", null, T0, due));
        WeakReference<StoredMessage> failed = new WeakReference<>(TestRows.pending("bad", null, T0, due));

        MessageProcessor.Attempts attempts = processor.start(List.of(sent.get(), failed.get()));

        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return sent.get() == null;
        });
        assertThat(failed.get()).as("kept for the alert").isNotNull();
        processor.record(List.of(attempts));
        assertThat(storage.published("m-1").status()).isEqualTo(MessageStatus.SUCCEEDED);
        assertThat(storage.published("bad").status()).isEqualTo(MessageStatus.FAILED);
        assertThat(alerts.alerts())
                .singleElement()
                .extracting(OutboxAlert::messageIds)
                .isEqualTo(List.of("bad"));
    }

    @Test
    void nonRetryableErrorFailsTheRowAfterOneAttempt() {
        attempt.answer(message -> CompletableFuture.failedFuture(
                new OutboxSerializationException("Cannot read the message body as OrderPaid", null)));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        StoredMessage row = TestRows.pending("m-1", null, T0, T0.plus(POLICY.firstDelay()));
        storage.insertPublished(null, row);

        process(processor, List.of(row));

        StoredMessage failed = storage.published("m-1");
        assertThat(failed.status()).isEqualTo(MessageStatus.FAILED);
        assertThat(failed.attempts()).isEqualTo(1);
        assertThat(failed.lastError()).contains("OutboxSerializationException");
        assertThat(failed.expiresAt()).isEqualTo(T0.plus(FAILED_RETENTION));
        assertThat(attempt.times()).hasSize(1);
        assertThat(alerts.alerts())
                .singleElement()
                .extracting(OutboxAlert::messageIds)
                .isEqualTo(List.of("m-1"));
    }

    @Test
    void attemptThatThrowsInsteadOfFailingItsStageCountsAsAFailedAttempt() {
        attempt.answer(message -> {
            throw new IllegalStateException("no connection");
        });
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        StoredMessage row = TestRows.pending("m-1", null, T0, T0.plus(POLICY.firstDelay()));
        storage.insertPublished(null, row);

        process(processor, List.of(row));

        StoredMessage retrying = storage.published("m-1");
        assertThat(retrying.status()).isEqualTo(MessageStatus.RETRYING);
        assertThat(retrying.attempts()).isEqualTo(3);
        assertThat(retrying.lastError()).contains("no connection");
        assertThat(attempt.times()).hasSize(3);
    }

    @Test
    void staleOutcomeIsNotWrittenAndRaisesNoAlert() {
        StoredMessage last = TestRows.retrying("m-49", 49, T0, T0);
        storage.put(PUBLISHED, last);
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        List<StoredMessage> claimed = storage.claimDue(PUBLISHED, T0, T0.plus(LEASE), 10);
        Instant otherLease = T0.plus(LEASE).plus(LEASE).plus(LEASE);
        attempt.answer(message -> {
            // our lease ran out while the broker hung: another instance claimed the row in between
            storage.claimDue(PUBLISHED, T0.plus(LEASE).plus(LEASE), otherLease, 10);
            return CompletableFuture.failedFuture(new IllegalStateException("broker down"));
        });

        process(processor, claimed);

        StoredMessage row = storage.published("m-49");
        assertThat(row.status()).as("the other instance's claim stands").isEqualTo(MessageStatus.RETRYING);
        assertThat(row.attempts()).isEqualTo(49);
        assertThat(row.nextAttemptAt()).isEqualTo(otherLease);
        assertThat(row.version()).isEqualTo(claimed.get(0).version() + 1);
        assertThat(alerts.alerts()).isEmpty();
    }

    @Test
    void staleSuccessIsNotWrittenEither() {
        storage.put(PUBLISHED, TestRows.retrying("m-5", 5, T0, T0));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        List<StoredMessage> claimed = storage.claimDue(PUBLISHED, T0, T0.plus(LEASE), 10);
        attempt.answer(message -> {
            storage.claimDue(PUBLISHED, T0.plus(Duration.ofHours(1)), T0.plus(Duration.ofHours(2)), 10);
            return CompletableFuture.completedFuture(null);
        });

        process(processor, claimed);

        assertThat(storage.published("m-5").status()).isEqualTo(MessageStatus.RETRYING);
        assertThat(storage.published("m-5").nextAttemptAt()).isEqualTo(T0.plus(Duration.ofHours(2)));
    }

    @Test
    void attemptThatNeverAnswersTimesOutAndCountsAsAFailedAttempt() {
        attempt.answer(message -> new CompletableFuture<Void>()); // the broker never answers
        MessageProcessor processor = processor(POLICY, Duration.ofMillis(50));
        StoredMessage row = TestRows.pending("m-1", null, T0, T0.plus(POLICY.firstDelay()));
        storage.insertPublished(null, row);

        process(processor, List.of(row));

        StoredMessage retrying = storage.published("m-1");
        assertThat(retrying.status()).isEqualTo(MessageStatus.RETRYING);
        assertThat(retrying.attempts()).isEqualTo(3);
        assertThat(retrying.lastError()).contains("attempt timeout");
        assertThat(retrying.nextAttemptAt()).isEqualTo(T0.plus(Duration.ofMinutes(4)));
        assertThat(attempt.times()).hasSize(3);
    }

    @Test
    void lastAttemptThatTimesOutFailsTheRow() {
        attempt.answer(message -> new CompletableFuture<Void>());
        MessageProcessor processor = processor(POLICY, Duration.ofMillis(50));
        storage.put(PUBLISHED, TestRows.retrying("m-49", 49, T0, T0));

        pollOnce(processor);

        StoredMessage failed = storage.published("m-49");
        assertThat(failed.status()).isEqualTo(MessageStatus.FAILED);
        assertThat(failed.attempts()).isEqualTo(50);
        assertThat(failed.lastError()).contains("attempt timeout");
        assertThat(alerts.alerts()).hasSize(1);
    }

    @Test
    void failingStorageWriteDoesNotPropagateAndRaisesNoAlert() {
        attempt.answer(message -> CompletableFuture.failedFuture(new OutboxSerializationException("bad body", null)));
        storage.failCompleteWith(() -> new OutboxException("database down"));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        StoredMessage row = TestRows.pending("m-1", null, T0, T0.plus(POLICY.firstDelay()));
        storage.insertPublished(null, row);

        assertThatCode(() -> process(processor, List.of(row))).doesNotThrowAnyException();

        assertThat(storage.completeSizes()).containsExactly(1);
        assertThat(storage.published("m-1")).isEqualTo(row);
        assertThat(alerts.alerts()).isEmpty();
    }

    @Test
    void rowWithNoAttemptLeftIsFailedWithoutAnAttempt() {
        attempt.answer(message -> CompletableFuture.completedFuture(null));
        storage.put(PUBLISHED, TestRows.retrying("m-50", 50, T0, T0));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));

        pollOnce(processor);

        assertThat(attempt.times()).isEmpty();
        assertThat(storage.published("m-50").status()).isEqualTo(MessageStatus.FAILED);
        assertThat(storage.published("m-50").attempts()).isEqualTo(50);
        assertThat(alerts.alerts()).hasSize(1);
    }

    @Test
    void wholeBatchIsAttemptedAndRecordedInOneWrite() {
        attempt.answer(message -> message.id().endsWith("3")
                ? CompletableFuture.failedFuture(new IllegalStateException("broker down"))
                : CompletableFuture.completedFuture(null));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        List<StoredMessage> batch = IntStream.range(0, 5)
                .mapToObj(i -> TestRows.pending("m-" + i, null, T0, T0.plus(POLICY.firstDelay())))
                .toList();
        batch.forEach(row -> storage.insertPublished(null, row));

        process(processor, batch);

        assertThat(storage.completeSizes()).containsExactly(5);
        assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED)).isEqualTo(4);
        assertThat(storage.published("m-3").status()).isEqualTo(MessageStatus.RETRYING);
        assertThat(storage.published("m-3").attempts()).isEqualTo(3);
    }

    @Test
    void smallerMaxAttemptsLimitsTheImmediateAttempts() {
        attempt.answer(message -> CompletableFuture.failedFuture(new IllegalStateException("broker down")));
        RetryPolicy twoAttempts = RetryPolicy.builder()
                .immediateBackoff(Duration.ZERO)
                .maxAttempts(2)
                .build();
        MessageProcessor processor = processor(twoAttempts, Duration.ofSeconds(5));
        StoredMessage row = TestRows.pending("m-1", null, T0, T0.plus(POLICY.firstDelay()));
        storage.insertPublished(null, row);

        process(processor, List.of(row));

        assertThat(attempt.times()).hasSize(2);
        assertThat(storage.published("m-1").status()).isEqualTo(MessageStatus.FAILED);
        assertThat(storage.published("m-1").attempts()).isEqualTo(2);
    }

    @Test
    void aBrokerOutageFailingAWholeBatchLogsOneWarningAMinuteWithTheRestCounted() {
        attempt.answer(message -> CompletableFuture.failedFuture(new IllegalStateException("broker down")));
        MessageProcessor processor = processor(POLICY, Duration.ofSeconds(5));
        List<StoredMessage> batch = IntStream.range(0, 100)
                .mapToObj(i -> TestRows.pending("m-" + i, null, T0, T0.plus(POLICY.firstDelay())))
                .toList();
        batch.forEach(row -> storage.insertPublished(null, row));

        try (LogCapture logs = LogCapture.of(MessageProcessor.class)) {
            process(processor, batch);

            assertThat(logs.messages(Level.WARN))
                    .singleElement()
                    .satisfies(line -> assertThat(line)
                            .contains("of topic '" + TestRows.TOPIC + "' failed (attempt 3 of 50)")
                            .contains("java.lang.IllegalStateException: broker down"));
            assertThat(logs.messages(Level.DEBUG)).hasSize(99);

            clock.set(T0.plus(POLICY.firstDelay()));
            pollOnce(processor);

            assertThat(logs.messages(Level.WARN)).hasSize(2);
            assertThat(logs.messages(Level.WARN).get(1))
                    .contains("failed (attempt 4 of 50)")
                    .endsWith("[and 99 more failed attempts of this topic since " + T0 + ", logged at DEBUG]");
        }
    }

    /** The whole cycle of one batch, as the engine runs it: start the attempts, then record their outcomes. */
    private static void process(MessageProcessor processor, List<StoredMessage> batch) {
        processor.record(List.of(processor.start(batch)));
    }

    /** What the retry processor does once: claims every due row at the clock's time and processes it. */
    private int pollOnce(MessageProcessor processor) {
        Instant now = clock.instant();
        List<StoredMessage> due = storage.claimDue(PUBLISHED, now, now.plus(LEASE), 100);
        if (!due.isEmpty()) {
            process(processor, due);
        }
        return due.size();
    }

    private MessageProcessor processor(RetryPolicy policy, Duration attemptTimeout) {
        AlertDispatcher alertDispatcher = new AlertDispatcher(List.of(alerts), Duration.ofMinutes(5), clock);
        return new MessageProcessor(
                PUBLISHED,
                storage,
                policy,
                attempt,
                alertDispatcher,
                clock,
                timer,
                attemptTimeout,
                SUCCEEDED_RETENTION,
                FAILED_RETENTION,
                OutboxObserver.NONE);
    }

    /** An attempt whose answer the test scripts; records the clock's time of every call. */
    private final class ScriptedAttempt implements MessageProcessor.Attempt {
        private final List<Instant> times = Collections.synchronizedList(new ArrayList<>());
        private volatile Function<StoredMessage, CompletionStage<Void>> answer;

        void answer(Function<StoredMessage, CompletionStage<Void>> answer) {
            this.answer = answer;
        }

        List<Instant> times() {
            synchronized (times) {
                return List.copyOf(times);
            }
        }

        @Override
        public CompletionStage<Void> run(StoredMessage message, int attemptNumber) {
            times.add(clock.instant());
            return answer.apply(message);
        }
    }
}

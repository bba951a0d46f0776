package io.github.outbox4j.internal;

import static io.github.outbox4j.MessageKind.PUBLISHED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.testing.InMemoryOutboxStorage;
import io.github.outbox4j.testing.LogCapture;
import io.github.outbox4j.testing.MutableClock;
import io.github.outbox4j.testing.RecordingAlertListener;
import io.github.outbox4j.testing.TestRows;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60) // a hang guard: an engine bug must fail the test, not stall the build
class RetryProcessorTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Duration LEASE = Duration.ofMinutes(2);
    private static final RetryPolicy POLICY =
            RetryPolicy.builder().immediateBackoff(Duration.ZERO).build();

    private final MutableClock clock = new MutableClock(T0);
    private final InMemoryOutboxStorage storage = new InMemoryOutboxStorage();
    private final RecordingAlertListener alerts = new RecordingAlertListener();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<RetryProcessor> started = new ArrayList<>();

    @AfterEach
    void stop() {
        started.forEach(RetryProcessor::close);
        timer.shutdownNow();
    }

    @Test
    void pollDrainsABacklogBiggerThanOneBatchInSeveralClaims() {
        addDueRows(25);
        RetryProcessor retryProcessor =
                retryProcessor((message, attempt) -> CompletableFuture.completedFuture(null), 10);

        int processed = retryProcessor.poll();

        assertThat(processed).isEqualTo(25);
        assertThat(storage.claimSizes()).containsExactly(10, 10, 5);
        assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED)).isEqualTo(25);
    }

    @Test
    void pollStopsWhenAFullBatchLeavesNothingDue() {
        addDueRows(20);
        RetryProcessor retryProcessor =
                retryProcessor((message, attempt) -> CompletableFuture.completedFuture(null), 10);

        assertThat(retryProcessor.poll()).isEqualTo(20);
        assertThat(storage.claimSizes()).containsExactly(10, 10, 0);
    }

    @Test
    void failedRowsAreRescheduledAndNotClaimedAgainInTheSamePoll() {
        addDueRows(25);
        RetryProcessor retryProcessor = retryProcessor(
                (message, attempt) -> CompletableFuture.failedFuture(new IllegalStateException("broker down")), 10);

        assertThat(retryProcessor.poll()).isEqualTo(25);

        assertThat(storage.claimSizes()).containsExactly(10, 10, 5);
        assertThat(storage.rows(PUBLISHED)).allSatisfy(row -> {
            assertThat(row.status()).isEqualTo(MessageStatus.RETRYING);
            assertThat(row.attempts()).isEqualTo(3);
            assertThat(row.nextAttemptAt()).isEqualTo(T0.plus(Duration.ofMinutes(4)));
        });
        assertThat(retryProcessor.poll()).isZero();
    }

    @Test
    void rowsNotYetDueAreLeftAlone() {
        storage.insertPublished(null, TestRows.pending("later", null, T0, T0.plus(Duration.ofSeconds(1))));
        RetryProcessor retryProcessor =
                retryProcessor((message, attempt) -> CompletableFuture.completedFuture(null), 10);

        assertThat(retryProcessor.poll()).isZero();
        assertThat(storage.published("later").status()).isEqualTo(MessageStatus.PENDING);

        clock.advance(Duration.ofSeconds(1));
        assertThat(retryProcessor.poll()).isOne();
        assertThat(storage.published("later").status()).isEqualTo(MessageStatus.SUCCEEDED);
    }

    @Test
    void holdsAtMostTwoBatchesOneBeingRecordedWhileTheNextIsSent() {
        addDueRows(35);
        BatchGate gate = new BatchGate();
        RetryProcessor retryProcessor = retryProcessor(gate, 10);

        assertThat(retryProcessor.poll()).isEqualTo(35);

        assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED)).isEqualTo(35);
        assertThat(storage.maxInHand()).as("rows claimed and not yet recorded").isEqualTo(20);
        assertThat(gate.maxInFlight()).as("attempts in flight at once").isEqualTo(10);
        assertThat(storage.claimSizes()).containsExactly(10, 10, 10, 5);
    }

    @Test
    void committedRowNeverDispatchedIsSentOnTheRetryScheduleFromItsFirstDelay() {
        // its process died before the dispatcher sent it: the row is due at its first-delay time
        storage.insertPublished(null, TestRows.pending("orphan", null, T0, T0.plus(POLICY.firstDelay())));
        List<Instant> attempts = Collections.synchronizedList(new ArrayList<>());
        RetryProcessor retryProcessor = retryProcessor(
                (message, attempt) -> {
                    attempts.add(clock.instant());
                    return CompletableFuture.failedFuture(new IllegalStateException("broker down"));
                },
                500);

        for (int minute = 0; minute <= 90; minute++) {
            clock.set(T0.plus(Duration.ofMinutes(minute)));
            retryProcessor.poll();
        }

        List<Instant> expected = new ArrayList<>();
        IntStream.rangeClosed(1, 3).forEach(n -> expected.add(T0.plus(Duration.ofMinutes(4))));
        IntStream.rangeClosed(4, 50).forEach(n -> expected.add(T0.plus(Duration.ofMinutes(4 + n))));
        assertThat(attempts).containsExactlyElementsOf(expected);
        assertThat(storage.published("orphan").status()).isEqualTo(MessageStatus.FAILED);
        assertThat(alerts.alerts()).hasSize(1);
    }

    @Test
    void backgroundPollingProcessesDueRowsAndRunsTheAfterPollTask() {
        addDueRows(3);
        AtomicInteger afterPolls = new AtomicInteger();
        RetryProcessor retryProcessor = pollingEvery10Ms(afterPolls::incrementAndGet);

        retryProcessor.start();

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED))
                        .isEqualTo(3));
        await().atMost(Duration.ofSeconds(10)).until(() -> afterPolls.get() >= 2);
    }

    @Test
    void failingClaimDoesNotStopBackgroundPolling() {
        addDueRows(3);
        storage.failNextClaims(2);
        AtomicInteger afterPolls = new AtomicInteger();
        RetryProcessor retryProcessor = pollingEvery10Ms(() -> {
            afterPolls.incrementAndGet();
            throw new IllegalStateException("after-poll task failed");
        });

        retryProcessor.start();

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED))
                        .isEqualTo(3));
        assertThat(afterPolls.get()).isGreaterThanOrEqualTo(3);
    }

    @Test
    void aStorageFailingPollAfterPollLogsOneWarningAndItsRecovery() {
        addDueRows(3);
        storage.failNextClaims(50);
        RetryProcessor retryProcessor = pollingEvery10Ms(() -> {});

        try (LogCapture logs = LogCapture.of(RetryProcessor.class)) {
            retryProcessor.start();

            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED))
                            .isEqualTo(3));
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(logs.messages(Level.INFO))
                            .containsExactly(
                                    "Polling due PUBLISHED messages works again, after 50 failures since " + T0));
            assertThat(logs.messages(Level.WARN))
                    .as("the clock stood still: one warning for the 50 polls that failed")
                    .singleElement()
                    .satisfies(line -> assertThat(line).startsWith("Polling due PUBLISHED messages failed"));
            assertThat(logs.messages(Level.DEBUG)).hasSize(49);
        }
    }

    @Test
    void aBacklogFoundByTheBackgroundPollIsDrainedByTwoThreadsAtOnce() {
        addDueRows(30);
        // answers nothing until two whole batches are in flight: one thread alone would wait forever
        List<CompletableFuture<Void>> held = new ArrayList<>();
        MessageProcessor.Attempt twoBatchesAtOnce = (message, attempt) -> {
            synchronized (held) {
                if (held.size() >= 20) {
                    return CompletableFuture.completedFuture(null);
                }
                CompletableFuture<Void> answer = new CompletableFuture<>();
                held.add(answer);
                if (held.size() == 20) {
                    held.forEach(future -> future.complete(null));
                }
                return answer;
            }
        };
        RetryProcessor retryProcessor = new RetryProcessor(
                storage, processor(twoBatchesAtOnce), clock, Duration.ofMillis(10), LEASE, 10, 2, () -> {});
        started.add(retryProcessor);

        retryProcessor.start();

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(storage.count(PUBLISHED, MessageStatus.SUCCEEDED))
                        .isEqualTo(30));
        assertThat(storage.claimSizes()).startsWith(10, 10);
    }

    @Test
    void pollDrainsInTheCallingThreadAlone() {
        addDueRows(30);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        RetryProcessor retryProcessor = new RetryProcessor(
                storage,
                processor((message, attempt) -> {
                    threads.add(Thread.currentThread().getName());
                    return CompletableFuture.completedFuture(null);
                }),
                clock,
                Duration.ofSeconds(1),
                LEASE,
                10,
                4,
                () -> {});
        started.add(retryProcessor);

        assertThat(retryProcessor.poll()).isEqualTo(30);
        assertThat(threads).containsExactly(Thread.currentThread().getName());
    }

    @Test
    void closedProcessorStopsAfterTheBatchInHand() {
        addDueRows(25);
        RetryProcessor retryProcessor =
                retryProcessor((message, attempt) -> CompletableFuture.completedFuture(null), 10);
        retryProcessor.close(Duration.ofSeconds(1));

        assertThat(retryProcessor.poll()).isEqualTo(10);
        assertThat(storage.claimSizes()).containsExactly(10);
    }

    private void addDueRows(int count) {
        for (int i = 0; i < count; i++) {
            // ids and due times in one order, so the claim order is known
            storage.insertPublished(
                    null, TestRows.pending(String.format("m-%03d", i), null, T0, T0.minusSeconds(count - i)));
        }
    }

    /** A processor for background polling, every 10 ms, whose attempts all succeed; not started yet. */
    private RetryProcessor pollingEvery10Ms(Runnable afterPoll) {
        RetryProcessor retryProcessor = new RetryProcessor(
                storage,
                processor((message, attempt) -> CompletableFuture.completedFuture(null)),
                clock,
                Duration.ofMillis(10),
                LEASE,
                10,
                1,
                afterPoll);
        started.add(retryProcessor);
        return retryProcessor;
    }

    private RetryProcessor retryProcessor(MessageProcessor.Attempt attempt, int batchSize) {
        RetryProcessor retryProcessor = new RetryProcessor(
                storage, processor(attempt), clock, Duration.ofSeconds(1), LEASE, batchSize, 1, () -> {});
        started.add(retryProcessor);
        return retryProcessor;
    }

    private MessageProcessor processor(MessageProcessor.Attempt attempt) {
        return new MessageProcessor(
                PUBLISHED,
                storage,
                POLICY,
                attempt,
                new AlertDispatcher(List.of(alerts), Duration.ofMinutes(5), clock),
                clock,
                timer,
                Duration.ofSeconds(10),
                Duration.ofHours(24),
                Duration.ofDays(15),
                OutboxObserver.NONE);
    }

    /**
     * Holds every attempt open until all rows of the current claim have been started, then answers them all:
     * the whole batch is in flight at once, and nothing of the next batch may be.
     */
    private final class BatchGate implements MessageProcessor.Attempt {
        private final List<CompletableFuture<Void>> open = new ArrayList<>();
        private int maxInFlight;

        @Override
        public synchronized CompletionStage<Void> run(StoredMessage message, int attemptNumber) {
            CompletableFuture<Void> answer = new CompletableFuture<>();
            open.add(answer);
            maxInFlight = Math.max(maxInFlight, open.size());
            List<Integer> claims = storage.claimSizes();
            if (open.size() == claims.get(claims.size() - 1)) {
                List<CompletableFuture<Void>> batch = List.copyOf(open);
                open.clear();
                batch.forEach(future -> future.complete(null));
            }
            return answer;
        }

        synchronized int maxInFlight() {
            return maxInFlight;
        }
    }
}

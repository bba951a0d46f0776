package io.github.outbox4j.internal;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one engine both sides share: takes rows that this instance holds (fresh after commit, or claimed by
 * the retry processor), {@link #start starts} the attempts the {@link RetryPolicy} allows now, and {@link #record
 * records} the outcomes of one or more such batches in one fenced write. A row that becomes FAILED is alerted
 * once, by the instance whose write landed.
 *
 * <p>A row never attempted before gets the immediate attempts; a row already past them gets one attempt
 * per claim. Attempts run asynchronously, so a whole batch is in flight at once. Thread-safe.
 */
public final class MessageProcessor {
    private static final Logger log = LoggerFactory.getLogger(MessageProcessor.class);

    /** One try at a message: a send (published side) or a handler call (received side). */
    @FunctionalInterface
    public interface Attempt {
        /** Tries {@code message}; {@code attemptNumber} is 1 for the row's first attempt ever. */
        CompletionStage<Void> run(StoredMessage message, int attemptNumber);

        /**
         * Whether a successful attempt has written its row's SUCCEEDED outcome itself, as a handler does in its own
         * transaction; the processor then writes only the failures.
         */
        default boolean recordsItsOwnSuccess() {
            return false;
        }
    }

    private final MessageKind kind;
    private final OutboxStorage storage;
    private final RetryPolicy policy;
    private final Attempt attempt;
    private final AlertDispatcher alerts;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    private final Duration attemptTimeout;
    private final Duration succeededRetention;
    private final Duration failedRetention;
    private final Retry[] retriesByBudget;
    private final OutboxObserver observer;
    private final FailureLog failures;

    public MessageProcessor(
            MessageKind kind,
            OutboxStorage storage,
            RetryPolicy policy,
            Attempt attempt,
            AlertDispatcher alerts,
            Clock clock,
            ScheduledExecutorService timer,
            Duration attemptTimeout,
            Duration succeededRetention,
            Duration failedRetention,
            OutboxObserver observer) {
        this.kind = kind;
        this.storage = storage;
        this.policy = policy;
        this.attempt = attempt;
        this.alerts = alerts;
        this.clock = clock;
        this.timer = timer;
        this.attemptTimeout = attemptTimeout;
        this.succeededRetention = succeededRetention;
        this.failedRetention = failedRetention;
        this.observer = observer;
        this.failures = new FailureLog(log, clock);
        this.retriesByBudget = new Retry[policy.immediateAttempts() + 1];
        for (int budget = 1; budget <= policy.immediateAttempts(); budget++) {
            retriesByBudget[budget] = Retry.of(
                    "outbox-" + kind.name().toLowerCase() + "-" + budget,
                    RetryConfig.custom()
                            .maxAttempts(budget)
                            .waitDuration(policy.immediateBackoff())
                            .retryOnException(error -> isRetryable(unwrap(error)))
                            .build());
        }
    }

    public MessageKind kind() {
        return kind;
    }

    /**
     * The attempts of one batch, under way; {@link #record} awaits them and writes their outcomes. Once a message's
     * attempts have ended well, the batch lets go of it: until its outcome is written only the small outcome stays
     * in memory, not the payload. A failed message is kept for the alert.
     */
    public static final class Attempts {
        private final StoredMessage[] messages;
        private final List<CompletableFuture<MessageOutcome>> outcomes;

        private Attempts(StoredMessage[] messages, List<CompletableFuture<MessageOutcome>> outcomes) {
            this.messages = messages;
            this.outcomes = outcomes;
        }

        /** The number of messages in the batch. */
        public int size() {
            return messages.length;
        }

        /** Completes when every attempt of the batch has ended, successful or not. */
        public CompletableFuture<Void> done() {
            return CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
                    .handle((ignored, error) -> null);
        }
    }

    /** Starts the attempts of every message of {@code batch} and returns without waiting for them. */
    public Attempts start(List<StoredMessage> batch) {
        StoredMessage[] messages = batch.toArray(StoredMessage[]::new);
        List<CompletableFuture<MessageOutcome>> pending = new ArrayList<>(messages.length);
        for (int i = 0; i < messages.length; i++) {
            int index = i;
            pending.add(attempt(messages[i]).whenComplete((outcome, error) -> {
                if (outcome != null && outcome.status() != MessageStatus.FAILED) {
                    messages[index] = null;
                }
            }));
        }
        return new Attempts(messages, pending);
    }

    /**
     * Awaits the attempts of {@code batches} and records all their outcomes in one write. Returns once they are
     * written (or the write failed: the rows then keep their lease and come back to the retry processor).
     */
    public void record(List<Attempts> batches) {
        List<MessageOutcome> outcomes = new ArrayList<>();
        Map<MessageOutcome, StoredMessage> messageOf = new HashMap<>();
        for (Attempts attempts : batches) {
            for (int i = 0; i < attempts.messages.length; i++) {
                // read before the outcome: a message is let go of only once its outcome is there
                StoredMessage message = attempts.messages[i];
                MessageOutcome outcome = await(attempts.outcomes.get(i), message);
                outcomes.add(outcome);
                if (outcome.status() == MessageStatus.FAILED) {
                    messageOf.put(outcome, message);
                }
            }
        }
        if (attempt.recordsItsOwnSuccess()) {
            // writing a success again here would only be refused by the fencing
            outcomes.removeIf(outcome -> outcome.status() == MessageStatus.SUCCEEDED);
        }
        List<MessageOutcome> written;
        try {
            written = storage.complete(kind, outcomes);
        } catch (RuntimeException | Error e) {
            // a driver may throw an Error on a connection killed mid-batch: the engine must outlive it
            rethrowIfFatal(e);
            log.warn(
                    "Could not record {} outcomes of {} messages; they will be retried when their lease ends",
                    outcomes.size(),
                    kind,
                    e);
            return;
        }
        for (MessageOutcome outcome : written) {
            if (outcome.status() == MessageStatus.FAILED) {
                StoredMessage message = messageOf.get(outcome);
                observer.exhausted(kind, message.topic(), message.group());
                alerts.exhausted(kind, message, outcome.lastError());
            }
        }
    }

    private CompletableFuture<MessageOutcome> attempt(StoredMessage message) {
        int remaining = policy.maxAttempts() - message.attempts();
        if (remaining <= 0) {
            return CompletableFuture.completedFuture(outcome(
                    message,
                    0,
                    new IllegalStateException("no attempt left: " + message.attempts() + " made, max-attempts is "
                            + policy.maxAttempts())));
        }
        int budget = Math.min(remaining, Math.max(1, policy.immediateAttempts() - message.attempts()));
        AtomicInteger made = new AtomicInteger();
        CompletionStage<Void> attempts = retriesByBudget[budget].executeCompletionStage(
                timer, () -> once(message, message.attempts() + made.incrementAndGet()));
        return attempts.toCompletableFuture()
                .handle((ignored, error) -> outcome(message, made.get(), error == null ? null : unwrap(error)));
    }

    private CompletableFuture<Void> once(StoredMessage message, int attemptNumber) {
        try {
            return attempt.run(message, attemptNumber)
                    .toCompletableFuture()
                    .copy()
                    .orTimeout(attemptTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((ignored, error) -> observe(message, error));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private MessageOutcome outcome(StoredMessage message, int made, Throwable error) {
        int attempts = message.attempts() + made;
        Instant now = clock.instant();
        if (error == null) {
            return MessageOutcome.succeeded(message, attempts, expiry(now, succeededRetention));
        }
        String description = describe(error);
        if (error instanceof StaleClaimException) {
            // another worker owns the row now; this outcome is refused by the fencing, so there is nothing to report
            log.debug("{} message {}: {}", kind, message.id(), description);
            return MessageOutcome.failed(message, attempts, expiry(now, failedRetention), description);
        }
        if (!isRetryable(error) || policy.isExhausted(attempts)) {
            failures.exhausted(kind, message, attempts, error);
            return MessageOutcome.failed(message, attempts, expiry(now, failedRetention), description);
        }
        Instant next = now.plus(policy.delayAfter(attempts));
        failures.retrying(kind, message, attempts, policy.maxAttempts(), next, error);
        return MessageOutcome.retrying(message, attempts, next, description);
    }

    private MessageOutcome await(CompletableFuture<MessageOutcome> future, StoredMessage message) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return outcome(message, 0, e);
        } catch (ExecutionException e) {
            return outcome(message, 0, e.getCause());
        }
    }

    private void observe(StoredMessage message, Throwable error) {
        Throwable cause = error == null ? null : unwrap(error);
        if (kind == MessageKind.PUBLISHED) {
            if (cause == null) {
                observer.sent(message.topic(), Duration.between(message.addedAt(), clock.instant()));
            } else {
                observer.sendFailed(message.topic(), cause);
            }
        } else if (cause == null) {
            observer.handled(message.topic(), message.group(), Duration.between(message.addedAt(), clock.instant()));
        } else {
            observer.handlerFailed(message.topic(), message.group(), cause);
        }
    }

    /**
     * When a final row may be deleted: {@code retention} after {@code now}, rounded up to the whole second. The
     * outcomes of a batch then share one or two expiry times, so a storage can write equal outcomes with one
     * statement.
     */
    static Instant expiry(Instant now, Duration retention) {
        Instant exact = now.plus(retention);
        Instant second = exact.truncatedTo(ChronoUnit.SECONDS);
        return second.equals(exact) ? exact : second.plusSeconds(1);
    }

    /** A row taken over by another worker is not retried here: the other worker owns it now. */
    private boolean isRetryable(Throwable error) {
        return !(error instanceof StaleClaimException) && policy.isRetryable(error);
    }

    /** Errors the JVM cannot go on after; every other failure of a worker is logged and survived. */
    static void rethrowIfFatal(Throwable error) {
        if (error instanceof VirtualMachineError fatal) {
            throw fatal;
        }
    }

    static Throwable unwrap(Throwable error) {
        Throwable current = error;
        while ((current instanceof CompletionException || current instanceof ExecutionException)
                && current.getCause() != null) {
            current = current.getCause();
        }
        return current;
    }

    static String describe(Throwable error) {
        if (error instanceof java.util.concurrent.TimeoutException) {
            return "no answer within the attempt timeout (" + error.getClass().getName() + ")";
        }
        String message = error.getMessage();
        return error.getClass().getName() + (message == null ? "" : ": " + message);
    }
}

package io.github.outbox4j.internal;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background task: every poll interval it claims due rows in batches and hands them to the {@link
 * MessageProcessor}: retries whose time has come, delayed messages whose delay is over, and rows committed
 * but never dispatched because their process died (they are due at their first-delay time). While a batch
 * is claimed, its rows' next attempt time is pushed to the end of a lease, so other instances skip them
 * and no row lock is held during the broker calls. A full batch is followed by the next one at once, so a
 * backlog drains at full speed: a thread claims the next batch and starts sending it before it records the
 * outcomes of the previous one, so memory holds at most two batches per thread.
 *
 * <p>With more than one thread, a background poll that claims a full batch recruits the other threads to drain
 * beside it: while one thread waits for the broker or records outcomes, another claims, so the database and the
 * broker both stay busy. Idle, only one thread polls. Thread-safe.
 */
public final class RetryProcessor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RetryProcessor.class);

    private final OutboxStorage storage;
    private final MessageProcessor processor;
    private final Clock clock;
    private final Duration pollInterval;
    private final Duration lease;
    private final int batchSize;
    private final int threads;
    private final AtomicInteger recruited = new AtomicInteger();
    private final Runnable afterPoll;
    private final ScheduledExecutorService executor;
    private final RepeatedFailureLog pollFailures;
    private volatile boolean closed;

    public RetryProcessor(
            OutboxStorage storage,
            MessageProcessor processor,
            Clock clock,
            Duration pollInterval,
            Duration lease,
            int batchSize,
            int threads,
            Runnable afterPoll) {
        this.storage = storage;
        this.processor = processor;
        this.clock = clock;
        this.pollInterval = pollInterval;
        this.lease = lease;
        this.batchSize = batchSize;
        this.threads = threads;
        this.afterPoll = afterPoll;
        this.pollFailures = new RepeatedFailureLog(log, clock, "Polling due " + processor.kind() + " messages");
        this.executor = Executors.newScheduledThreadPool(
                threads,
                new NamedThreadFactory("retry-" + processor.kind().name().toLowerCase()));
    }

    public void start() {
        // the first poll comes one interval after start, like every later one: polls are then predictable, and
        // rows left by a previous run are due anyway only after their lease or first delay
        executor.scheduleWithFixedDelay(
                this::pollSafely, pollInterval.toMillis(), pollInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Claims and processes due rows until fewer than a batch are due, in the calling thread alone; returns how
     * many it processed.
     */
    public int poll() {
        return drain(false);
    }

    private int drain(boolean recruit) {
        int total = 0;
        MessageProcessor.Attempts inFlight = null;
        try {
            List<StoredMessage> claimed;
            do {
                Instant now = clock.instant();
                claimed = storage.claimDue(processor.kind(), now, now.plus(lease), batchSize);
                if (claimed.size() == batchSize && recruit) {
                    recruitAnotherThread();
                }
                MessageProcessor.Attempts previous = inFlight;
                inFlight = claimed.isEmpty() ? null : processor.start(claimed);
                total += claimed.size();
                if (previous != null) {
                    // recorded while the batch just claimed is being sent: the broker and the database overlap
                    processor.record(List.of(previous));
                }
            } while (claimed.size() == batchSize && !closed);
        } finally {
            if (inFlight != null) {
                processor.record(List.of(inFlight));
            }
        }
        return total;
    }

    /** A backlog: another thread, if one is free, drains beside this one until it finds no full batch. */
    private void recruitAnotherThread() {
        int current;
        do {
            current = recruited.get();
            if (current >= threads - 1 || closed) {
                return;
            }
        } while (!recruited.compareAndSet(current, current + 1));
        try {
            executor.execute(() -> {
                try {
                    pollSafely();
                } finally {
                    recruited.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            recruited.decrementAndGet(); // closing
        }
    }

    private void pollSafely() {
        try {
            drain(true);
            pollFailures.succeeded();
        } catch (RuntimeException | Error e) {
            // an exception escaping a scheduled task would cancel every later poll
            MessageProcessor.rethrowIfFatal(e);
            pollFailures.failed(pollInterval, e);
        } finally {
            try {
                afterPoll.run();
            } catch (RuntimeException e) {
                log.warn("After-poll task failed", e);
            }
        }
    }

    /** Stops polling; waits at most {@code timeout} for the batch in hand to be recorded. */
    public void close(Duration timeout) {
        closed = true;
        executor.shutdown();
        try {
            if (!executor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}

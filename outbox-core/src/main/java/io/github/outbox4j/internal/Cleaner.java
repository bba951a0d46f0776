package io.github.outbox4j.internal;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.spi.OutboxStorage;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes SUCCEEDED and FAILED rows whose retention has ended, in bounded batches so that no delete holds
 * many locks or a long transaction. Each run stops after {@link #MAX_BATCHES_PER_RUN} batches per table;
 * the next run goes on. Thread-safe.
 */
public final class Cleaner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Cleaner.class);
    static final int MAX_BATCHES_PER_RUN = 100;

    private final OutboxStorage storage;
    private final Clock clock;
    private final Duration interval;
    private final int batchSize;
    private final ScheduledExecutorService executor =
            Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("cleanup"));
    private final RepeatedFailureLog failures;

    public Cleaner(OutboxStorage storage, Clock clock, Duration interval, int batchSize) {
        this.storage = storage;
        this.clock = clock;
        this.interval = interval;
        this.batchSize = batchSize;
        this.failures = new RepeatedFailureLog(log, clock, "Deleting expired outbox rows");
    }

    public void start() {
        executor.scheduleWithFixedDelay(
                this::runSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Purges expired rows of both tables; returns how many were deleted. */
    public int run() {
        int deleted = 0;
        for (MessageKind kind : MessageKind.values()) {
            for (int batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
                int count = storage.purgeExpired(kind, clock.instant(), batchSize);
                deleted += count;
                if (count < batchSize) {
                    break;
                }
            }
        }
        return deleted;
    }

    private void runSafely() {
        try {
            int deleted = run();
            if (deleted > 0) {
                log.debug("Deleted {} expired outbox rows", deleted);
            }
            failures.succeeded();
        } catch (RuntimeException e) {
            failures.failed(interval, e);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}

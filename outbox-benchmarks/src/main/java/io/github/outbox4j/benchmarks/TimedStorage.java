package io.github.outbox4j.benchmarks;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import java.sql.Connection;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The real storage, timed: how long the engine spends in the calls that make up its loops (claims, outcome writes,
 * inbox inserts), summed over all threads. Tells where a drain's or a consumer's time goes without a profiler.
 * Thread-safe.
 */
final class TimedStorage implements OutboxStorage {
    /** Calls and total nanoseconds of one method. */
    static final class Timer {
        final LongAdder calls = new LongAdder();
        final LongAdder nanos = new LongAdder();
        final LongAdder rows = new LongAdder();

        <T> T time(int rowCount, Supplier<T> call) {
            long start = System.nanoTime();
            try {
                return call.get();
            } finally {
                nanos.add(System.nanoTime() - start);
                calls.increment();
                rows.add(rowCount);
            }
        }

        String describe(String name) {
            long count = calls.sum();
            return String.format(
                    Locale.ROOT,
                    "%s %d calls, %d rows, %.1f s in total, %.2f ms per call",
                    name,
                    count,
                    rows.sum(),
                    nanos.sum() / 1e9,
                    count == 0 ? 0 : nanos.sum() / 1e6 / count);
        }
    }

    final Timer claims = new Timer();
    final Timer publishedOutcomes = new Timer();
    final Timer receivedOutcomes = new Timer();
    final Timer inboxInserts = new Timer();
    private final OutboxStorage delegate;

    TimedStorage(OutboxStorage delegate) {
        this.delegate = delegate;
    }

    String describe() {
        return claims.describe("claimDue") + "; " + publishedOutcomes.describe("complete(PUBLISHED)") + "; "
                + receivedOutcomes.describe("complete(RECEIVED, failures only)") + "; "
                + inboxInserts.describe("insertReceived");
    }

    @Override
    public void initialize() {
        delegate.initialize();
    }

    @Override
    public void insertPublished(Connection connection, StoredMessage message) {
        delegate.insertPublished(connection, message);
    }

    @Override
    public boolean insertReceived(StoredMessage message) {
        return inboxInserts.time(1, () -> delegate.insertReceived(message));
    }

    @Override
    public List<StoredMessage> insertReceived(List<StoredMessage> messages) {
        // the inbox's own call: without it, the interface's default would store the delivery one row at a time
        return inboxInserts.time(messages.size(), () -> delegate.insertReceived(messages));
    }

    @Override
    public List<StoredMessage> claimDue(MessageKind kind, Instant now, Instant leaseUntil, int limit) {
        long start = System.nanoTime();
        List<StoredMessage> claimed = delegate.claimDue(kind, now, leaseUntil, limit);
        claims.nanos.add(System.nanoTime() - start);
        claims.calls.increment();
        claims.rows.add(claimed.size());
        return claimed;
    }

    @Override
    public List<MessageOutcome> complete(MessageKind kind, List<MessageOutcome> outcomes) {
        Timer timer = kind == MessageKind.PUBLISHED ? publishedOutcomes : receivedOutcomes;
        return timer.time(outcomes.size(), () -> delegate.complete(kind, outcomes));
    }

    @Override
    public List<MessageOutcome> complete(Connection connection, MessageKind kind, List<MessageOutcome> outcomes) {
        return delegate.complete(connection, kind, outcomes);
    }

    @Override
    public int purgeExpired(MessageKind kind, Instant now, int limit) {
        return delegate.purgeExpired(kind, now, limit);
    }

    @Override
    public Optional<StoredMessage> find(MessageKind kind, String id, String group) {
        return delegate.find(kind, id, group);
    }

    @Override
    public Map<MessageStatus, Long> countByStatus(MessageKind kind) {
        return delegate.countByStatus(kind);
    }

    @Override
    public long countFailed(MessageKind kind) {
        return delegate.countFailed(kind);
    }

    @Override
    public long countPending(MessageKind kind) {
        return delegate.countPending(kind);
    }

    @Override
    public Optional<Instant> oldestPending(MessageKind kind) {
        return delegate.oldestPending(kind);
    }

    @Override
    public List<StoredMessage> browse(MessageKind kind, MessageStatus status, String topic, int offset, int limit) {
        return delegate.browse(kind, status, topic, offset, limit);
    }

    @Override
    public boolean requeue(MessageKind kind, String id, String group, Instant now) {
        return delegate.requeue(kind, id, group, now);
    }

    @Override
    public boolean delete(MessageKind kind, String id, String group) {
        return delegate.delete(kind, id, group);
    }
}

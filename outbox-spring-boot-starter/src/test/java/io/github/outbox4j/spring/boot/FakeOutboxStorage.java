package io.github.outbox4j.spring.boot;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A storage that keeps rows in memory and never claims anything: enough for wiring tests, which must not need a
 * database. Thread-safe.
 */
class FakeOutboxStorage implements OutboxStorage {
    final List<StoredMessage> published = new CopyOnWriteArrayList<>();
    final List<StoredMessage> received = new CopyOnWriteArrayList<>();
    volatile boolean initialized;
    volatile RuntimeException failure;

    @Override
    public void initialize() {
        initialized = true;
    }

    @Override
    public void insertPublished(Connection connection, StoredMessage message) {
        published.add(message);
    }

    @Override
    public boolean insertReceived(StoredMessage message) {
        received.add(message);
        return true;
    }

    @Override
    public List<StoredMessage> claimDue(MessageKind kind, Instant now, Instant leaseUntil, int limit) {
        return List.of();
    }

    @Override
    public List<MessageOutcome> complete(MessageKind kind, List<MessageOutcome> outcomes) {
        return outcomes;
    }

    @Override
    public List<MessageOutcome> complete(Connection connection, MessageKind kind, List<MessageOutcome> outcomes) {
        return outcomes;
    }

    @Override
    public int purgeExpired(MessageKind kind, Instant now, int limit) {
        return 0;
    }

    @Override
    public Optional<StoredMessage> find(MessageKind kind, String id, String group) {
        return rows(kind).stream()
                .filter(row -> row.id().equals(id) && Objects.equals(row.group(), group))
                .findFirst();
    }

    @Override
    public Map<MessageStatus, Long> countByStatus(MessageKind kind) {
        failIfAsked();
        Map<MessageStatus, Long> counts = new EnumMap<>(MessageStatus.class);
        rows(kind).forEach(row -> counts.merge(row.status(), 1L, Long::sum));
        return counts;
    }

    @Override
    public long countFailed(MessageKind kind) {
        failIfAsked();
        return rows(kind).stream()
                .filter(row -> row.status() == MessageStatus.FAILED)
                .count();
    }

    @Override
    public long countPending(MessageKind kind) {
        failIfAsked();
        return rows(kind).stream().filter(row -> !row.status().isFinal()).count();
    }

    @Override
    public Optional<Instant> oldestPending(MessageKind kind) {
        failIfAsked();
        return rows(kind).stream()
                .filter(row -> !row.status().isFinal())
                .map(StoredMessage::addedAt)
                .min(Instant::compareTo);
    }

    @Override
    public List<StoredMessage> browse(MessageKind kind, MessageStatus status, String topic, int offset, int limit) {
        return rows(kind).stream()
                .filter(row -> status == null || row.status() == status)
                .filter(row -> topic == null || row.topic().equals(topic))
                .skip(offset)
                .limit(limit)
                .toList();
    }

    @Override
    public boolean requeue(MessageKind kind, String id, String group, Instant now) {
        List<StoredMessage> rows = rows(kind);
        for (StoredMessage row : new ArrayList<>(rows)) {
            if (row.id().equals(id) && Objects.equals(row.group(), group) && row.status() == MessageStatus.FAILED) {
                rows.remove(row);
                rows.add(new StoredMessage(
                        row.id(),
                        row.group(),
                        row.topic(),
                        row.key(),
                        row.headers(),
                        row.payload(),
                        MessageStatus.RETRYING,
                        0,
                        row.addedAt(),
                        now,
                        null,
                        row.lastError(),
                        row.version() + 1));
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean delete(MessageKind kind, String id, String group) {
        return rows(kind).removeIf(row -> row.id().equals(id) && Objects.equals(row.group(), group));
    }

    private List<StoredMessage> rows(MessageKind kind) {
        return kind == MessageKind.PUBLISHED ? published : received;
    }

    private void failIfAsked() {
        if (failure != null) {
            throw failure;
        }
    }
}

package io.github.outbox4j.testing;

import io.github.outbox4j.DuplicateMessageException;
import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * An {@link OutboxStorage} in memory that keeps the SPI contract the engine relies on: a row is due when its
 * next attempt time is at or before "now", due rows are claimed earliest first, a claim moves the next attempt
 * time to the lease end and bumps the version, an outcome is written only if the row still has the expected
 * version (and bumps it), and only final rows whose expiry is before "now" are purged.
 *
 * <p>It also records what the engine did to it (claim and complete sizes, rows claimed but not yet completed)
 * and can be told to fail. Thread-safe: every method holds the storage's lock, and none calls out while holding
 * it.
 */
public final class InMemoryOutboxStorage implements OutboxStorage {
    private final Map<RowKey, StoredMessage> rows = new LinkedHashMap<>();
    private final List<Integer> claimSizes = new ArrayList<>();
    private final List<Integer> completeSizes = new ArrayList<>();
    private volatile CompletableFuture<Void> completeGate = CompletableFuture.completedFuture(null);
    private final AtomicInteger completesEntered = new AtomicInteger();
    private final Set<RowKey> inHand = new HashSet<>();
    private int maxInHand;
    private int initialized;
    private Supplier<RuntimeException> completeFailure;
    private int claimFailuresLeft;

    private record RowKey(MessageKind kind, String id, String group) {}

    private static RowKey key(MessageKind kind, String id, String group) {
        return new RowKey(kind, id, kind == MessageKind.PUBLISHED ? null : group);
    }

    @Override
    public synchronized void initialize() {
        initialized++;
    }

    @Override
    public synchronized void insertPublished(Connection connection, StoredMessage message) {
        RowKey key = key(MessageKind.PUBLISHED, message.id(), null);
        if (rows.containsKey(key)) {
            throw new DuplicateMessageException("A published message with id " + message.id() + " exists", null);
        }
        rows.put(key, message);
    }

    @Override
    public synchronized boolean insertReceived(StoredMessage message) {
        Objects.requireNonNull(message.group(), "a received message needs a group");
        return rows.putIfAbsent(key(MessageKind.RECEIVED, message.id(), message.group()), message) == null;
    }

    /** Stores {@code message} as it is, replacing any row with its key: for setting up a scenario. */
    public synchronized void put(MessageKind kind, StoredMessage message) {
        rows.put(key(kind, message.id(), message.group()), message);
    }

    @Override
    public synchronized List<StoredMessage> claimDue(MessageKind kind, Instant now, Instant leaseUntil, int limit) {
        if (claimFailuresLeft > 0) {
            claimFailuresLeft--;
            throw new io.github.outbox4j.OutboxException("claim failed (simulated)");
        }
        List<Map.Entry<RowKey, StoredMessage>> due = rows.entrySet().stream()
                .filter(entry -> entry.getKey().kind() == kind)
                .filter(entry -> !entry.getValue().status().isFinal())
                .filter(entry -> entry.getValue().nextAttemptAt() != null
                        && !entry.getValue().nextAttemptAt().isAfter(now))
                .sorted(Comparator.comparing((Map.Entry<RowKey, StoredMessage> entry) ->
                                entry.getValue().nextAttemptAt())
                        .thenComparing(entry -> entry.getValue().id()))
                .limit(limit)
                .toList();
        List<StoredMessage> claimed = new ArrayList<>(due.size());
        for (Map.Entry<RowKey, StoredMessage> entry : due) {
            StoredMessage row = entry.getValue();
            StoredMessage leased = new StoredMessage(
                    row.id(),
                    row.group(),
                    row.topic(),
                    row.key(),
                    row.headers(),
                    row.payload(),
                    row.status(),
                    row.attempts(),
                    row.addedAt(),
                    leaseUntil,
                    row.expiresAt(),
                    row.lastError(),
                    row.version() + 1);
            rows.put(entry.getKey(), leased);
            claimed.add(leased);
            inHand.add(entry.getKey());
        }
        maxInHand = Math.max(maxInHand, inHand.size());
        claimSizes.add(claimed.size());
        return claimed;
    }

    @Override
    public List<MessageOutcome> complete(MessageKind kind, List<MessageOutcome> outcomes) {
        completesEntered.incrementAndGet();
        completeGate.join(); // outside the lock: the rows stay readable while a write is held
        return completeNow(kind, outcomes);
    }

    private synchronized List<MessageOutcome> completeNow(MessageKind kind, List<MessageOutcome> outcomes) {
        completeSizes.add(outcomes.size());
        if (completeFailure != null) {
            throw completeFailure.get();
        }
        List<MessageOutcome> written = new ArrayList<>();
        for (MessageOutcome outcome : outcomes) {
            RowKey key = key(kind, outcome.id(), outcome.group());
            inHand.remove(key);
            StoredMessage row = rows.get(key);
            if (row == null || row.version() != outcome.expectedVersion()) {
                continue;
            }
            rows.put(
                    key,
                    new StoredMessage(
                            row.id(),
                            row.group(),
                            row.topic(),
                            row.key(),
                            row.headers(),
                            row.payload(),
                            outcome.status(),
                            outcome.attempts(),
                            row.addedAt(),
                            outcome.nextAttemptAt(),
                            outcome.expiresAt(),
                            outcome.lastError(),
                            row.version() + 1));
            written.add(outcome);
        }
        return written;
    }

    @Override
    public List<MessageOutcome> complete(Connection connection, MessageKind kind, List<MessageOutcome> outcomes) {
        return complete(kind, outcomes);
    }

    @Override
    public synchronized int purgeExpired(MessageKind kind, Instant now, int limit) {
        int deleted = 0;
        for (Iterator<Map.Entry<RowKey, StoredMessage>> it = rows.entrySet().iterator();
                it.hasNext() && deleted < limit; ) {
            Map.Entry<RowKey, StoredMessage> entry = it.next();
            StoredMessage row = entry.getValue();
            if (entry.getKey().kind() == kind
                    && row.status().isFinal()
                    && row.expiresAt() != null
                    && row.expiresAt().isBefore(now)) {
                it.remove();
                deleted++;
            }
        }
        return deleted;
    }

    @Override
    public synchronized Optional<StoredMessage> find(MessageKind kind, String id, String group) {
        return Optional.ofNullable(rows.get(key(kind, id, group)));
    }

    /** The published row {@code id}; fails if there is none. */
    public StoredMessage published(String id) {
        return find(MessageKind.PUBLISHED, id, null).orElseThrow(() -> new AssertionError("no published row " + id));
    }

    /** Every row of {@code kind}, in insertion order. */
    public synchronized List<StoredMessage> rows(MessageKind kind) {
        return rows.entrySet().stream()
                .filter(entry -> entry.getKey().kind() == kind)
                .map(Map.Entry::getValue)
                .toList();
    }

    /** How many rows of {@code kind} have {@code status}. */
    public synchronized long count(MessageKind kind, MessageStatus status) {
        return rows(kind).stream().filter(row -> row.status() == status).count();
    }

    /** The size of every claim so far, empty ones included, in order. */
    public synchronized List<Integer> claimSizes() {
        return List.copyOf(claimSizes);
    }

    /** The number of outcomes of every {@code complete} call so far, in order. */
    public synchronized List<Integer> completeSizes() {
        return List.copyOf(completeSizes);
    }

    /** The most rows that were claimed and not yet completed at any one time. */
    public synchronized int maxInHand() {
        return maxInHand;
    }

    public synchronized int initializeCalls() {
        return initialized;
    }

    /** Calls of {@code complete} so far, counted on entry (before a held one is let through). */
    public int completesEntered() {
        return completesEntered.get();
    }

    /** Holds every later {@code complete} until {@code gate} completes. */
    public void holdCompletesUntil(CompletableFuture<Void> gate) {
        this.completeGate = gate;
    }

    /** Makes every later {@code complete} throw what {@code failure} supplies; {@code null} heals it. */
    public synchronized void failCompleteWith(Supplier<RuntimeException> failure) {
        this.completeFailure = failure;
    }

    /** Makes the next {@code times} claims throw. */
    public synchronized void failNextClaims(int times) {
        this.claimFailuresLeft = times;
    }
}

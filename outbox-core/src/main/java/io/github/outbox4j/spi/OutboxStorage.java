package io.github.outbox4j.spi;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where messages live: the {@code msg_published} and {@code msg_received} tables of one database.
 *
 * <p>Rows are due when their next attempt time is at or before "now"; every time is passed in by the engine
 * (from its {@link java.time.Clock}), never taken from the database. Claims are safe with several instances
 * on one database: a claim moves the next attempt time to the end of a lease and changes the row's version,
 * and an outcome is written only if the version is still the claimed one. No lock is held after a method
 * returns. Implementations are thread-safe and throw {@link io.github.outbox4j.OutboxException}s only.
 */
public interface OutboxStorage {

    /**
     * Checks the database (its version, the table names) and creates the tables if configured to. Called
     * once when the outbox starts; fails with a message naming what is wrong.
     */
    void initialize();

    /**
     * Writes a new published row through {@code connection}, joining the transaction it is in.
     *
     * @throws io.github.outbox4j.DuplicateMessageException if the id is already stored
     */
    void insertPublished(Connection connection, StoredMessage message);

    /**
     * Writes a new received row in its own committed transaction.
     *
     * @return {@code false} if a row with the same message id and group already exists
     */
    boolean insertReceived(StoredMessage message);

    /**
     * Writes several new received rows, as {@link #insertReceived(StoredMessage)} does each, and returns those
     * that were new, in their order; the others had been received by their group before. The default writes them
     * one by one; the JDBC storages write them in one transaction, which saves a commit per message.
     */
    default List<StoredMessage> insertReceived(List<StoredMessage> messages) {
        List<StoredMessage> stored = new ArrayList<>(messages.size());
        for (StoredMessage message : messages) {
            if (insertReceived(message)) {
                stored.add(message);
            }
        }
        return stored;
    }

    /**
     * Claims up to {@code limit} rows of {@code kind} due at {@code now}, earliest first: each claimed row's
     * next attempt time becomes {@code leaseUntil} and its version changes. Rows locked by another claimer
     * are skipped, not waited for.
     *
     * @return the claimed rows, carrying their new version
     */
    List<StoredMessage> claimDue(MessageKind kind, Instant now, Instant leaseUntil, int limit);

    /**
     * Writes outcomes in one transaction, each only if its row still has the expected version.
     *
     * @return the outcomes that were written; the others were fenced off by a newer claim or outcome
     */
    List<MessageOutcome> complete(MessageKind kind, List<MessageOutcome> outcomes);

    /**
     * Same as {@link #complete(MessageKind, List)} but through {@code connection}, joining its transaction:
     * used when an outcome must commit together with the caller's own writes.
     */
    List<MessageOutcome> complete(Connection connection, MessageKind kind, List<MessageOutcome> outcomes);

    /** Deletes up to {@code limit} final rows whose expiry is before {@code now}; returns how many. */
    int purgeExpired(MessageKind kind, Instant now, int limit);

    /** Reads one row; {@code group} is {@code null} for published rows. */
    Optional<StoredMessage> find(MessageKind kind, String id, String group);

    // --- operations: what the health indicator, the metrics and the operations endpoint read and change ---

    /** How many rows of each status there are; statuses without rows are absent. Scans the table. */
    default Map<MessageStatus, Long> countByStatus(MessageKind kind) {
        throw new UnsupportedOperationException(getClass().getName() + " does not count rows");
    }

    /**
     * How many rows are FAILED, waiting for a person. Served by an index of the FAILED rows where the database has
     * partial indexes (PostgreSQL), so that a health check does not read the SUCCEEDED rows kept for the retention.
     */
    default long countFailed(MessageKind kind) {
        throw new UnsupportedOperationException(getClass().getName() + " does not count rows");
    }

    /** How many rows still have an attempt ahead (PENDING and RETRYING). Served by the polling index. */
    default long countPending(MessageKind kind) {
        throw new UnsupportedOperationException(getClass().getName() + " does not count rows");
    }

    /** When the oldest row that still has an attempt ahead was added; empty when there is none. */
    default Optional<Instant> oldestPending(MessageKind kind) {
        throw new UnsupportedOperationException(getClass().getName() + " does not report the oldest row");
    }

    /**
     * A page of rows, newest first.
     *
     * @param status only rows of this status, or {@code null} for all
     * @param topic only rows of this topic, or {@code null} for all
     */
    default List<StoredMessage> browse(MessageKind kind, MessageStatus status, String topic, int offset, int limit) {
        throw new UnsupportedOperationException(getClass().getName() + " does not browse rows");
    }

    /**
     * Gives a FAILED row a new life: status RETRYING, attempts 0, due at {@code now}, no expiry; the retry
     * processor then makes the full policy's attempts again.
     *
     * @return whether a FAILED row with that key existed
     */
    default boolean requeue(MessageKind kind, String id, String group, Instant now) {
        throw new UnsupportedOperationException(getClass().getName() + " does not requeue rows");
    }

    /** Deletes one row; returns whether it existed. */
    default boolean delete(MessageKind kind, String id, String group) {
        throw new UnsupportedOperationException(getClass().getName() + " does not delete rows");
    }
}

package io.github.outbox4j.spi;

import java.sql.Connection;

/**
 * Tells the publisher which transaction the caller is in. The plain-Java default follows
 * {@code Outbox.inTransaction(..)}; the Spring starter follows Spring's transaction synchronization.
 */
public interface TransactionContext {

    /**
     * The connection of the caller's current transaction.
     *
     * @throws io.github.outbox4j.OutboxTransactionRequiredException if there is none
     */
    Connection currentConnection();

    /** Runs {@code action} once the current transaction has committed; never after a rollback. */
    void afterCommit(Runnable action);
}

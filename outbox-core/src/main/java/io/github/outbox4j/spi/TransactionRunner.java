package io.github.outbox4j.spi;

import io.github.outbox4j.TransactionalWork;

/**
 * Runs work in a new local transaction on the outbox's database: used for consumer handlers, whose effects
 * commit together with their inbox row. The plain-Java default is {@code Outbox.inTransaction}; the Spring
 * starter runs the work in a Spring transaction.
 */
@FunctionalInterface
public interface TransactionRunner {

    /** Commits if {@code work} returns, rolls back and rethrows if it throws. */
    <T> T inTransaction(TransactionalWork<T> work);
}

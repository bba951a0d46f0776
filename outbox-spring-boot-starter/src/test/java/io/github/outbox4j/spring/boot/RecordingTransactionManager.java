package io.github.outbox4j.spring.boot;

import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.DefaultTransactionStatus;

/** A transaction manager without a resource: counts begins, commits and rollbacks, for wiring tests. */
class RecordingTransactionManager extends AbstractPlatformTransactionManager {
    private static final long serialVersionUID = 1L;

    final AtomicInteger begins = new AtomicInteger();
    final AtomicInteger commits = new AtomicInteger();
    final AtomicInteger rollbacks = new AtomicInteger();

    private static final class Transaction {
        boolean active;
    }

    private final transient ThreadLocal<Transaction> current = ThreadLocal.withInitial(Transaction::new);

    @Override
    protected Object doGetTransaction() {
        return current.get();
    }

    @Override
    protected boolean isExistingTransaction(Object transaction) {
        return ((Transaction) transaction).active;
    }

    @Override
    protected void doBegin(Object transaction, TransactionDefinition definition) {
        ((Transaction) transaction).active = true;
        begins.incrementAndGet();
    }

    @Override
    protected Object doSuspend(Object transaction) {
        current.remove();
        return transaction;
    }

    @Override
    protected void doResume(Object transaction, Object suspendedResources) {
        current.set((Transaction) suspendedResources);
    }

    @Override
    protected void doCommit(DefaultTransactionStatus status) {
        commits.incrementAndGet();
    }

    @Override
    protected void doRollback(DefaultTransactionStatus status) {
        rollbacks.incrementAndGet();
    }

    @Override
    protected void doCleanupAfterCompletion(Object transaction) {
        ((Transaction) transaction).active = false;
    }
}

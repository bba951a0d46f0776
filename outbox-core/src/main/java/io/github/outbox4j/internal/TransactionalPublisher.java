package io.github.outbox4j.internal;

import io.github.outbox4j.OutboxMessage;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.OutboxPublisher;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.spi.TransactionContext;
import java.util.Objects;

/**
 * Writes each message into the caller's transaction, found through a {@link TransactionContext}, and hands
 * it to the dispatcher once that transaction commits. Thread-safe.
 */
public final class TransactionalPublisher implements OutboxPublisher {
    private final TransactionContext context;
    private final MessageFactory factory;
    private final OutboxStorage storage;
    private final Dispatcher dispatcher;
    private final OutboxObserver observer;

    public TransactionalPublisher(
            TransactionContext context,
            MessageFactory factory,
            OutboxStorage storage,
            Dispatcher dispatcher,
            OutboxObserver observer) {
        this.context = context;
        this.factory = factory;
        this.storage = storage;
        this.dispatcher = dispatcher;
        this.observer = observer;
    }

    @Override
    public String publish(OutboxMessage message) {
        Objects.requireNonNull(message, "message");
        var connection = context.currentConnection();
        StoredMessage row = factory.toRow(message);
        storage.insertPublished(connection, row);
        observer.published(row.topic());
        if (!MessageFactory.isDelayed(message)) {
            context.afterCommit(() -> dispatcher.offer(row));
        }
        return row.id();
    }
}

package io.github.outbox4j;

import io.github.outbox4j.internal.Dispatcher;
import io.github.outbox4j.internal.MessageFactory;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A publisher bound to one JDBC connection whose transaction the caller runs. Publish, then call {@link
 * #commit()}: it commits the connection and sends the messages at once. If the caller commits the
 * connection by other means, it calls {@link #committed()} afterwards; otherwise the messages are still
 * delivered, by the retry processor after {@code outbox.retry.first-delay}.
 *
 * <p>Not thread-safe, like the connection it is bound to.
 */
public final class ConnectionPublisher implements OutboxPublisher {
    private final Connection connection;
    private final MessageFactory factory;
    private final OutboxStorage storage;
    private final Dispatcher dispatcher;
    private final OutboxObserver observer;
    private final List<StoredMessage> uncommitted = new ArrayList<>();

    ConnectionPublisher(
            Connection connection,
            MessageFactory factory,
            OutboxStorage storage,
            Dispatcher dispatcher,
            OutboxObserver observer) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.factory = factory;
        this.storage = storage;
        this.dispatcher = dispatcher;
        this.observer = observer;
    }

    /**
     * Writes the message through the bound connection.
     *
     * @throws OutboxTransactionRequiredException if the connection is in auto-commit mode
     */
    @Override
    public String publish(OutboxMessage message) {
        Objects.requireNonNull(message, "message");
        try {
            if (connection.getAutoCommit()) {
                throw new OutboxTransactionRequiredException(
                        "The connection is in auto-commit mode: call setAutoCommit(false) before publishing, so"
                                + " the message commits with the business data");
            }
        } catch (SQLException e) {
            throw new OutboxException("Cannot read the connection's auto-commit mode", e);
        }
        StoredMessage row = factory.toRow(message);
        storage.insertPublished(connection, row);
        observer.published(row.topic());
        if (!MessageFactory.isDelayed(message)) {
            uncommitted.add(row);
        }
        return row.id();
    }

    /** Commits the connection, then sends what was published in the transaction. */
    public void commit() throws SQLException {
        connection.commit();
        committed();
    }

    /** Rolls the connection back; nothing published in the transaction is sent. */
    public void rollback() throws SQLException {
        uncommitted.clear();
        connection.rollback();
    }

    /** Tells the publisher that the caller committed the connection itself: sends what was published. */
    public void committed() {
        uncommitted.forEach(dispatcher::offer);
        uncommitted.clear();
    }
}

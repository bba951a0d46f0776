package io.github.outbox4j.testing;

import io.github.outbox4j.DuplicateMessageException;
import io.github.outbox4j.MessageKind;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StoredMessage;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * A database with transactions and no SQL: a {@link DataSource} of connection stand-ins that only know
 * auto-commit, commit, rollback and close, and an {@link OutboxStorage} over an {@link InMemoryOutboxStorage} in
 * which a row published through a connection becomes visible only when that connection commits. Enough to test
 * the publish path's transaction handling without a database.
 */
public final class FakeDatabase {
    private final InMemoryOutboxStorage committed = new InMemoryOutboxStorage();
    private final AtomicInteger commits = new AtomicInteger();
    private final AtomicInteger rollbacks = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final OutboxStorage storage = new TransactionalStorage();

    /** Hands out a new connection, in auto-commit mode, per {@code getConnection()}. */
    public DataSource dataSource() {
        return (DataSource) Proxy.newProxyInstance(
                FakeDatabase.class.getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "getConnection":
                            return connection();
                        case "hashCode":
                            return System.identityHashCode(proxy);
                        case "equals":
                            return proxy == args[0];
                        case "toString":
                            return "FakeDataSource";
                        default:
                            throw new UnsupportedOperationException(method.getName());
                    }
                });
    }

    /** A new connection in auto-commit mode. */
    public Connection connection() {
        open.incrementAndGet();
        return (Connection) Proxy.newProxyInstance(
                FakeDatabase.class.getClassLoader(), new Class<?>[] {Connection.class}, new FakeConnection());
    }

    /** The storage the engine uses: published rows join the connection's transaction. */
    public OutboxStorage storage() {
        return storage;
    }

    /** What has been committed. */
    public InMemoryOutboxStorage committed() {
        return committed;
    }

    public int commits() {
        return commits.get();
    }

    public int rollbacks() {
        return rollbacks.get();
    }

    /** Connections handed out and not closed. */
    public int openConnections() {
        return open.get();
    }

    private final class FakeConnection implements InvocationHandler {
        private final List<StoredMessage> uncommitted = new ArrayList<>();
        private boolean autoCommit = true;
        private boolean closed;

        @Override
        public synchronized Object invoke(Object proxy, Method method, Object[] args) throws SQLException {
            switch (method.getName()) {
                case "getAutoCommit":
                    requireOpen();
                    return autoCommit;
                case "setAutoCommit":
                    requireOpen();
                    boolean on = (Boolean) args[0];
                    if (on && !autoCommit) {
                        commit(); // JDBC: switching auto-commit on commits the transaction
                    }
                    autoCommit = on;
                    return null;
                case "commit":
                    requireOpen();
                    commit();
                    commits.incrementAndGet();
                    return null;
                case "rollback":
                    requireOpen();
                    uncommitted.clear();
                    rollbacks.incrementAndGet();
                    return null;
                case "close":
                    if (!closed) {
                        closed = true;
                        uncommitted.clear();
                        open.decrementAndGet();
                    }
                    return null;
                case "isClosed":
                    return closed;
                case "unwrap":
                    if (((Class<?>) args[0]).isInstance(this)) {
                        return this;
                    }
                    throw new SQLException("not a wrapper");
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                case "toString":
                    return "FakeConnection@" + Integer.toHexString(System.identityHashCode(proxy));
                default:
                    throw new UnsupportedOperationException(method.getName());
            }
        }

        synchronized void write(StoredMessage row) throws SQLException {
            requireOpen();
            if (autoCommit) {
                committed.insertPublished(null, row);
            } else {
                uncommitted.add(row);
            }
        }

        private void commit() {
            uncommitted.forEach(row -> committed.insertPublished(null, row));
            uncommitted.clear();
        }

        private void requireOpen() throws SQLException {
            if (closed) {
                throw new SQLException("connection is closed");
            }
        }
    }

    private final class TransactionalStorage implements OutboxStorage {
        @Override
        public void initialize() {
            committed.initialize();
        }

        @Override
        public void insertPublished(Connection connection, StoredMessage message) {
            if (committed.find(MessageKind.PUBLISHED, message.id(), null).isPresent()) {
                throw new DuplicateMessageException("A published message with id " + message.id() + " exists", null);
            }
            try {
                ((FakeConnection) Proxy.getInvocationHandler(connection)).write(message);
            } catch (SQLException e) {
                throw new io.github.outbox4j.OutboxException("Cannot write message " + message.id(), e);
            }
        }

        @Override
        public boolean insertReceived(StoredMessage message) {
            return committed.insertReceived(message);
        }

        @Override
        public List<StoredMessage> claimDue(MessageKind kind, Instant now, Instant leaseUntil, int limit) {
            return committed.claimDue(kind, now, leaseUntil, limit);
        }

        @Override
        public List<MessageOutcome> complete(MessageKind kind, List<MessageOutcome> outcomes) {
            return committed.complete(kind, outcomes);
        }

        @Override
        public List<MessageOutcome> complete(Connection connection, MessageKind kind, List<MessageOutcome> outcomes) {
            return committed.complete(kind, outcomes);
        }

        @Override
        public int purgeExpired(MessageKind kind, Instant now, int limit) {
            return committed.purgeExpired(kind, now, limit);
        }

        @Override
        public Optional<StoredMessage> find(MessageKind kind, String id, String group) {
            return committed.find(kind, id, group);
        }
    }
}

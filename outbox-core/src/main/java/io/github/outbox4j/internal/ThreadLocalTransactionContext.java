package io.github.outbox4j.internal;

import io.github.outbox4j.OutboxTransactionRequiredException;
import io.github.outbox4j.spi.TransactionContext;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

/**
 * The plain-Java transaction context: {@code Outbox.inTransaction(..)} binds its connection to the calling
 * thread for the duration of the work, and runs the after-commit actions once it has committed.
 */
public final class ThreadLocalTransactionContext implements TransactionContext {
    private final ThreadLocal<Scope> current = new ThreadLocal<>();

    /** The transaction bound to this thread, or {@code null}. */
    public Scope currentScope() {
        return current.get();
    }

    public Scope bind(Connection connection) {
        Scope scope = new Scope(connection);
        current.set(scope);
        return scope;
    }

    public void unbind() {
        current.remove();
    }

    @Override
    public Connection currentConnection() {
        return requireScope().connection;
    }

    @Override
    public void afterCommit(Runnable action) {
        requireScope().afterCommit.add(action);
    }

    private Scope requireScope() {
        Scope scope = current.get();
        if (scope == null) {
            throw new OutboxTransactionRequiredException(
                    "No transaction: publish inside Outbox.inTransaction(..), through Outbox.publisher(Connection)"
                            + " on a connection with auto-commit off, or (Spring) in a @Transactional method");
        }
        return scope;
    }

    /** One transaction: its connection and what to run once it commits. */
    public static final class Scope {
        private final Connection connection;
        private final List<Runnable> afterCommit = new ArrayList<>();

        private Scope(Connection connection) {
            this.connection = connection;
        }

        public Connection connection() {
            return connection;
        }

        /** Runs and forgets the after-commit actions; call once the connection has committed. */
        public void committed() {
            List<Runnable> actions = List.copyOf(afterCommit);
            afterCommit.clear();
            actions.forEach(Runnable::run);
        }
    }
}

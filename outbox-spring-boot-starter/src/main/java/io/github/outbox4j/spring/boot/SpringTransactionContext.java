package io.github.outbox4j.spring.boot;

import io.github.outbox4j.OutboxException;
import io.github.outbox4j.OutboxTransactionRequiredException;
import io.github.outbox4j.spi.TransactionContext;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Finds the caller's transaction the Spring way: the outbox row is written through the connection that Spring's
 * transaction manager bound to the {@link DataSource} (a {@code @Transactional} method, a {@code TransactionTemplate},
 * a JPA transaction exposing its JDBC connection), and the message is handed to the dispatcher by an after-commit
 * {@link TransactionSynchronization} of that same transaction. A rollback therefore leaves nothing and sends
 * nothing; an inner {@code REQUIRES_NEW} transaction sends its messages when it commits itself.
 *
 * <p>Outside a transaction, or in a transaction that does not cover this data source (its connection is in
 * auto-commit), publishing fails with {@link OutboxTransactionRequiredException}. Thread-safe: all state is
 * Spring's thread-bound transaction state.
 */
public final class SpringTransactionContext implements TransactionContext {
    private static final Logger log = LoggerFactory.getLogger(SpringTransactionContext.class);

    private final DataSource dataSource;

    public SpringTransactionContext(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    @Override
    public Connection currentConnection() {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new OutboxTransactionRequiredException("No Spring transaction is active: publish inside a"
                    + " @Transactional (or @TransactionalPublish) method or a TransactionTemplate, so that the message"
                    + " commits together with your data");
        }
        Connection connection = DataSourceUtils.getConnection(dataSource);
        boolean autoCommit;
        try {
            autoCommit = connection.getAutoCommit();
        } catch (SQLException e) {
            throw new OutboxException("Cannot read the transaction state of the connection: " + e.getMessage(), e);
        }
        if (autoCommit) {
            // the active transaction belongs to another resource (another DataSource, a JMS or Kafka transaction):
            // this connection would commit the outbox row at once, whatever the business transaction does
            DataSourceUtils.releaseConnection(connection, dataSource);
            throw new OutboxTransactionRequiredException("The active Spring transaction does not cover the outbox's"
                    + " DataSource (its connection is in auto-commit mode): run the publish in a transaction of the"
                    + " transaction manager of that DataSource");
        }
        return connection;
    }

    @Override
    public void afterCommit(Runnable action) {
        Objects.requireNonNull(action, "action");
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            // a transaction manager configured without synchronization: the row is committed all the same, the
            // retry processor sends it once its first delay has passed
            log.warn("Spring transaction synchronization is off: a published message is sent by the retry processor"
                    + " after outbox.retry.first-delay instead of right after the commit");
            return;
        }
        TransactionSynchronizationManager.registerSynchronization(new AfterCommit(action));
    }

    /** Runs the action once the transaction committed; a failure there must not look like a failed commit. */
    private record AfterCommit(Runnable action) implements TransactionSynchronization {
        @Override
        public void afterCommit() {
            try {
                action.run();
            } catch (RuntimeException e) {
                log.warn("Handing a committed message to the dispatcher failed; the retry processor sends it", e);
            }
        }
    }
}

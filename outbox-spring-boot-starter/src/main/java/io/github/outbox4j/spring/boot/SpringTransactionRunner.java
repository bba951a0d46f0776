package io.github.outbox4j.spring.boot;

import io.github.outbox4j.OutboxException;
import io.github.outbox4j.OutboxPublisher;
import io.github.outbox4j.TransactionalWork;
import io.github.outbox4j.spi.TransactionRunner;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Runs consumer handlers in a new Spring transaction ({@code PROPAGATION_REQUIRES_NEW}) of the application's
 * transaction manager. The connection handed to the work is the one bound to that transaction, so a handler that
 * writes with {@code JdbcTemplate}, jOOQ or JPA on the same {@link DataSource} commits together with its inbox row:
 * its effects apply once per message and consumer group. Messages the handler publishes join that transaction too.
 *
 * <p>The transaction rolls back when the work throws anything; a {@link SQLException} of the work is rethrown as an
 * {@link OutboxException}. Thread-safe.
 */
public final class SpringTransactionRunner implements TransactionRunner {
    private final DataSource dataSource;
    private final TransactionTemplate template;
    private final Supplier<OutboxPublisher> publisher;

    /**
     * @param publisher the outbox's publisher, looked up when the first handler runs (the outbox is built after
     *     this runner)
     */
    public SpringTransactionRunner(
            DataSource dataSource, PlatformTransactionManager transactionManager, Supplier<OutboxPublisher> publisher) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.template = new TransactionTemplate(Objects.requireNonNull(transactionManager, "transactionManager"));
        this.template.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        this.template.setName("outbox-handler");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    @Override
    public <T> T inTransaction(TransactionalWork<T> work) {
        Objects.requireNonNull(work, "work");
        return template.execute(status -> {
            Connection connection = DataSourceUtils.getConnection(dataSource);
            try {
                return work.execute(connection, publisher.get());
            } catch (SQLException e) {
                throw new OutboxException("Transactional work failed: " + e.getMessage(), e);
            } finally {
                DataSourceUtils.releaseConnection(connection, dataSource);
            }
        });
    }
}

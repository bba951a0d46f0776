package io.github.outbox4j;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Business work run by {@link Outbox#inTransaction(TransactionalWork)}: it writes through {@code connection}
 * and publishes through {@code publisher}, and both commit or roll back together.
 */
@FunctionalInterface
public interface TransactionalWork<T> {

    T execute(Connection connection, OutboxPublisher publisher) throws SQLException;
}

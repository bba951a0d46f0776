package io.github.outbox4j.storage.postgres;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.OutboxStorageProvider;
import io.github.outbox4j.spi.StorageOptions;
import javax.sql.DataSource;

/**
 * Registers {@link PostgresOutboxStorage} with {@link java.util.ServiceLoader} under the dialect
 * {@value #DIALECT}, for databases whose JDBC driver reports the product name {@code PostgreSQL}. Stateless and
 * thread-safe.
 */
public final class PostgresOutboxStorageProvider implements OutboxStorageProvider {
    /** The value of {@code outbox.storage.dialect} that selects this storage. */
    public static final String DIALECT = "postgresql";

    @Override
    public String dialect() {
        return DIALECT;
    }

    @Override
    public boolean supports(String databaseProductName) {
        return "PostgreSQL".equalsIgnoreCase(databaseProductName);
    }

    @Override
    public OutboxStorage create(DataSource dataSource, StorageOptions options) {
        return new PostgresOutboxStorage(dataSource, options);
    }
}

package io.github.outbox4j.storage.mysql;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.OutboxStorageProvider;
import io.github.outbox4j.spi.StorageOptions;
import javax.sql.DataSource;

/**
 * Registers {@link MySqlOutboxStorage} with {@link java.util.ServiceLoader} under the dialect {@value #DIALECT},
 * for databases whose JDBC driver reports the product name {@code MySQL} (MySQL Connector/J, also when connected
 * to MariaDB) or {@code MariaDB} (MariaDB Connector/J). Stateless and thread-safe.
 */
public final class MySqlOutboxStorageProvider implements OutboxStorageProvider {
    /** The value of {@code outbox.storage.dialect} that selects this storage. */
    public static final String DIALECT = "mysql";

    @Override
    public String dialect() {
        return DIALECT;
    }

    @Override
    public boolean supports(String databaseProductName) {
        return "MySQL".equalsIgnoreCase(databaseProductName) || "MariaDB".equalsIgnoreCase(databaseProductName);
    }

    @Override
    public OutboxStorage create(DataSource dataSource, StorageOptions options) {
        return new MySqlOutboxStorage(dataSource, options);
    }
}

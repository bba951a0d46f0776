package io.github.outbox4j.storage.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.outbox4j.spi.OutboxStorageProvider;
import io.github.outbox4j.spi.StorageOptions;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

class PostgresOutboxStorageProviderTest {

    @Test
    void isFoundByServiceLoaderForThePostgreSqlProductName() {
        OutboxStorageProvider provider = ServiceLoader.load(OutboxStorageProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(candidate -> candidate.supports("PostgreSQL"))
                .findFirst()
                .orElseThrow();

        assertThat(provider).isInstanceOf(PostgresOutboxStorageProvider.class);
        assertThat(provider.dialect()).isEqualTo("postgresql");
        assertThat(provider.supports("MySQL")).isFalse();
        assertThat(provider.supports("MariaDB")).isFalse();
        // creating a storage touches no database: the data source is never connected here
        assertThat(provider.create(new PGSimpleDataSource(), StorageOptions.defaults()))
                .isInstanceOf(PostgresOutboxStorage.class);
    }
}

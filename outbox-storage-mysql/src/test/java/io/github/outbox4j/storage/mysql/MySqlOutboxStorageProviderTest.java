package io.github.outbox4j.storage.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import com.mysql.cj.jdbc.MysqlDataSource;
import io.github.outbox4j.spi.OutboxStorageProvider;
import io.github.outbox4j.spi.StorageOptions;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class MySqlOutboxStorageProviderTest {

    @Test
    void isFoundByServiceLoaderForMySqlAndMariaDbProductNames() {
        // MySQL Connector/J reports "MySQL" even when connected to MariaDB; MariaDB's driver reports "MariaDB"
        for (String productName : new String[] {"MySQL", "MariaDB"}) {
            OutboxStorageProvider provider = ServiceLoader.load(OutboxStorageProvider.class).stream()
                    .map(ServiceLoader.Provider::get)
                    .filter(candidate -> candidate.supports(productName))
                    .findFirst()
                    .orElseThrow();
            assertThat(provider).isInstanceOf(MySqlOutboxStorageProvider.class);
        }

        MySqlOutboxStorageProvider provider = new MySqlOutboxStorageProvider();
        assertThat(provider.dialect()).isEqualTo("mysql");
        assertThat(provider.supports("PostgreSQL")).isFalse();
        // creating a storage touches no database: the data source is never connected here
        assertThat(provider.create(new MysqlDataSource(), StorageOptions.defaults()))
                .isInstanceOf(MySqlOutboxStorage.class);
    }
}

package io.github.outbox4j.storage.mysql;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.OutboxStorageContract;
import io.github.outbox4j.testkit.TestServices;
import javax.sql.DataSource;

class MySqlOutboxStorageIT extends OutboxStorageContract {

    @Override
    protected DataSource dataSource() {
        return TestServices.mysql();
    }

    @Override
    protected OutboxStorage createStorage(DataSource dataSource, StorageOptions options) {
        return new MySqlOutboxStorage(dataSource, options);
    }
}

package io.github.outbox4j.storage.postgres;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.OutboxEngineContract;
import io.github.outbox4j.testkit.TestServices;
import javax.sql.DataSource;

class PostgresOutboxEngineIT extends OutboxEngineContract {

    @Override
    protected DataSource dataSource() {
        return TestServices.postgres();
    }

    @Override
    protected OutboxStorage createStorage(DataSource dataSource, StorageOptions options) {
        return new PostgresOutboxStorage(dataSource, options);
    }
}

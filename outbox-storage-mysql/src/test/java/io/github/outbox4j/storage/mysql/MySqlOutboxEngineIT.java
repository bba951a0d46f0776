package io.github.outbox4j.storage.mysql;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.OutboxEngineContract;
import io.github.outbox4j.testkit.TestServices;
import java.util.List;
import javax.sql.DataSource;

class MySqlOutboxEngineIT extends OutboxEngineContract {

    @Override
    protected DataSource dataSource() {
        return TestServices.mysql();
    }

    @Override
    protected OutboxStorage createStorage(DataSource dataSource, StorageOptions options) {
        return new MySqlOutboxStorage(dataSource, options);
    }

    /** A row trigger taking and giving back a named lock, which waits while the test holds it. */
    @Override
    protected HeldUpdates heldUpdates(String table) {
        String name = table.replace('.', '_') + "_held";
        return new HeldUpdates(
                List.of("CREATE TRIGGER " + name + " BEFORE UPDATE ON " + table + " FOR EACH ROW BEGIN"
                        + " DO GET_LOCK('" + name + "', 60); DO RELEASE_LOCK('" + name + "'); END"),
                "DO GET_LOCK('" + name + "', 10)",
                "DO RELEASE_LOCK('" + name + "')",
                List.of("DROP TRIGGER IF EXISTS " + name));
    }
}

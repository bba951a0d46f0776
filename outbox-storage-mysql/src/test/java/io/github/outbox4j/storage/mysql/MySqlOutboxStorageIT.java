package io.github.outbox4j.storage.mysql;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.OutboxStorageContract;
import io.github.outbox4j.testkit.TestServices;
import java.util.List;
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

    /**
     * A row trigger counting in a MyISAM table, which a rollback does not reset; the first row's failure ends the
     * statement.
     */
    @Override
    protected FailingUpdates failingUpdates(String table, int times, String sqlState) {
        String name = table + "_failures";
        return new FailingUpdates(
                List.of(
                        "CREATE TABLE " + name + " (remaining INT NOT NULL) ENGINE = MyISAM",
                        "INSERT INTO " + name + " VALUES (" + times + ")",
                        "CREATE TRIGGER " + name + " BEFORE UPDATE ON " + table + " FOR EACH ROW BEGIN"
                                + " IF (SELECT remaining FROM " + name + ") > 0 THEN"
                                + " UPDATE " + name + " SET remaining = remaining - 1;"
                                + " SIGNAL SQLSTATE '" + sqlState + "'"
                                + " SET MESSAGE_TEXT = 'update of " + table + " failed by the test'; END IF; END"),
                List.of("DROP TRIGGER IF EXISTS " + name, "DROP TABLE IF EXISTS " + name));
    }
}

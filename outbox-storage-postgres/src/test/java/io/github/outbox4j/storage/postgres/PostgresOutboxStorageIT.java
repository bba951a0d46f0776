package io.github.outbox4j.storage.postgres;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.OutboxStorageContract;
import io.github.outbox4j.testkit.TestServices;
import java.util.List;
import javax.sql.DataSource;

class PostgresOutboxStorageIT extends OutboxStorageContract {

    @Override
    protected DataSource dataSource() {
        return TestServices.postgres();
    }

    @Override
    protected OutboxStorage createStorage(DataSource dataSource, StorageOptions options) {
        return new PostgresOutboxStorage(dataSource, options);
    }

    /** A statement trigger counting with a sequence, which a rollback does not reset. */
    @Override
    protected FailingUpdates failingUpdates(String table, int times, String sqlState) {
        String name = table + "_failures";
        return new FailingUpdates(
                List.of(
                        "CREATE SEQUENCE " + name,
                        "CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                                + " IF nextval('" + name + "') <= " + times + " THEN"
                                + " RAISE EXCEPTION 'update of " + table + " failed by the test'"
                                + " USING ERRCODE = '" + sqlState + "'; END IF; RETURN NULL; END $$",
                        "CREATE TRIGGER " + name + " BEFORE UPDATE ON " + table
                                + " FOR EACH STATEMENT EXECUTE FUNCTION " + name + "()"),
                List.of(
                        "DROP TRIGGER IF EXISTS " + name + " ON " + table,
                        "DROP FUNCTION IF EXISTS " + name + "()",
                        "DROP SEQUENCE IF EXISTS " + name));
    }
}

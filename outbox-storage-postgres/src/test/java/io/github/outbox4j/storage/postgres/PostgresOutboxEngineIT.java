package io.github.outbox4j.storage.postgres;

import io.github.outbox4j.spi.OutboxStorage;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.OutboxEngineContract;
import io.github.outbox4j.testkit.TestServices;
import java.util.List;
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

    /** A statement trigger waiting for a shared advisory lock while the test holds it exclusively. */
    @Override
    protected HeldUpdates heldUpdates(String table) {
        String name = table.replace('.', '_') + "_held";
        long key = name.hashCode();
        return new HeldUpdates(
                List.of(
                        "CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                                + " PERFORM pg_advisory_xact_lock_shared(" + key + "); RETURN NULL; END $$",
                        "CREATE TRIGGER " + name + " BEFORE UPDATE ON " + table
                                + " FOR EACH STATEMENT EXECUTE FUNCTION " + name + "()"),
                "SELECT pg_advisory_lock(" + key + ")",
                "SELECT pg_advisory_unlock(" + key + ")",
                List.of("DROP TRIGGER IF EXISTS " + name + " ON " + table, "DROP FUNCTION IF EXISTS " + name + "()"));
    }
}

package io.github.outbox4j.reliability;

/** The database restart test on a PostgreSQL server of its own: {@code pg_ctl stop -m fast}, then {@code -m immediate}. */
class PostgresRestartIT extends AbstractDatabaseRestartIT {
    @Override
    protected PrivateDatabase launchDatabase() throws Exception {
        return PrivatePostgres.launch();
    }
}

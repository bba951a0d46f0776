package io.github.outbox4j.reliability;

/** The database restart test on a MariaDB server of its own: SIGTERM, then SIGKILL. */
class MariaDbRestartIT extends AbstractDatabaseRestartIT {
    @Override
    protected PrivateDatabase launchDatabase() throws Exception {
        return PrivateMariaDb.launch();
    }
}

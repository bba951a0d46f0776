package io.github.outbox4j.reliability;

import com.zaxxer.hikari.HikariConfig;
import io.github.outbox4j.testkit.TestServices;

/**
 * A database outage as the application sees it: every connection of its pool (10) is terminated by the server
 * ({@code pg_terminate_backend}), three times. Only this test's connections are terminated: its pool sets a unique
 * {@code ApplicationName}.
 */
class DatabaseConnectionsTerminatedIT extends AbstractConnectionFaultIT {

    @Override
    protected void configurePool(HikariConfig config) {
        config.setMaximumPoolSize(10);
        config.setMinimumIdle(10);
        config.setConnectionTimeout(5_000);
    }

    /** Terminates every backend of this test's pool; returns how many. */
    @Override
    protected long injectFault() {
        return Sql.count(
                TestServices.postgres(),
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity"
                        + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        + " AND application_name = '" + applicationName + "') terminated WHERE done");
    }

    @Override
    protected String label() {
        return "db-connections-terminated";
    }

    @Override
    protected String faultCount() {
        return "connections terminated";
    }
}

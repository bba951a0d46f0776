package io.github.outbox4j.reliability;

import com.zaxxer.hikari.HikariConfig;
import io.github.outbox4j.testkit.TestServices;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

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
    protected long injectFault() throws SQLException {
        try (Connection connection = TestServices.postgres().getConnection();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(
                        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity"
                                + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                                + " AND application_name = '" + applicationName + "') terminated WHERE done")) {
            rows.next();
            return rows.getLong(1);
        }
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

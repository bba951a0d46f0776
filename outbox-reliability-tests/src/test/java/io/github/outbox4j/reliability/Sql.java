package io.github.outbox4j.reliability;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

/** The few statements the tests run to set up and to count what happened, outside any outbox. */
final class Sql {
    private Sql() {}

    static void execute(DataSource dataSource, String sql) {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement()) {
            connection.setAutoCommit(true);
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /** The single number {@code sql} selects. */
    static long count(DataSource dataSource, String sql) {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /** The first column of {@code sql}'s rows, counted: value → how many rows have it. */
    static Map<String, Long> tally(DataSource dataSource, String sql) {
        Map<String, Long> tally = new HashMap<>();
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(sql)) {
            while (rows.next()) {
                tally.merge(rows.getString(1), 1L, Long::sum);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
        return tally;
    }
}

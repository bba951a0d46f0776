package io.github.outbox4j.examples.demo;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Creates and drops the services' databases on a PostgreSQL or a MySQL/MariaDB server. */
final class Databases {
    private Databases() {}

    static void createIfMissing(String serverUrl, String database) {
        try (Connection connection = DriverManager.getConnection(serverUrl)) {
            switch (Dialect.of(serverUrl)) {
                case MYSQL -> execute(connection, "CREATE DATABASE IF NOT EXISTS " + database);
                case POSTGRESQL -> {
                    if (!exists(connection, database)) {
                        execute(connection, "CREATE DATABASE " + database);
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot create database " + database + " on " + serverUrl, e);
        }
    }

    static void drop(String serverUrl, String database) {
        try (Connection connection = DriverManager.getConnection(serverUrl)) {
            execute(
                    connection,
                    switch (Dialect.of(serverUrl)) {
                        case MYSQL -> "DROP DATABASE IF EXISTS " + database;
                        // closes the connections left to it
                        case POSTGRESQL -> "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)";
                    });
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot drop database " + database + " on " + serverUrl, e);
        }
    }

    /** PostgreSQL has no CREATE DATABASE IF NOT EXISTS. */
    private static boolean exists(Connection connection, String database) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            query.setString(1, database);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next();
            }
        }
    }

    private static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}

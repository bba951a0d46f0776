package io.github.outbox4j.jdbc;

import io.github.outbox4j.OutboxException;
import io.github.outbox4j.spi.StorageOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;

/**
 * A dialect's DDL script, shipped as a plain {@code .sql} resource written for the default table names so
 * that Flyway or Liquibase users can copy it as is. At run time the default names are replaced by the
 * configured (validated) ones: {@code msg_published} as a table reference becomes the qualified name, and as
 * the prefix of an index name becomes the configured table name.
 */
public final class SchemaScript {
    private final String resource;
    private final List<String> statements;

    private SchemaScript(String resource, List<String> statements) {
        this.resource = resource;
        this.statements = statements;
    }

    /** Loads {@code resource} relative to {@code owner}'s package and applies the configured names. */
    public static SchemaScript load(Class<?> owner, String resource, StorageOptions options) {
        String sql;
        try (InputStream in = owner.getResourceAsStream(resource)) {
            if (in == null) {
                throw new OutboxException("Schema script " + resource + " is missing next to " + owner.getName());
            }
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OutboxException("Cannot read schema script " + resource, e);
        }
        sql = rename(sql, StorageOptions.DEFAULT_PUBLISHED_TABLE, options.publishedTable(), options);
        sql = rename(sql, StorageOptions.DEFAULT_RECEIVED_TABLE, options.receivedTable(), options);
        return new SchemaScript(resource, split(sql));
    }

    /** The statements, names applied, in order. */
    public List<String> statements() {
        return statements;
    }

    /** Runs every statement on {@code connection}; each is idempotent ({@code IF NOT EXISTS}). */
    public void execute(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                try {
                    statement.execute(sql);
                } catch (SQLException e) {
                    throw new SQLException(
                            "Statement of " + resource + " failed: " + e.getMessage() + "\n" + sql,
                            e.getSQLState(),
                            e.getErrorCode(),
                            e);
                }
            }
        }
    }

    private static String rename(String sql, String defaultName, String table, StorageOptions options) {
        String indexPrefix = "\\b" + defaultName + "_";
        String tableReference = "\\b" + defaultName + "\\b";
        sql = sql.replaceAll(indexPrefix, Matcher.quoteReplacement(table + "_"));
        return sql.replaceAll(tableReference, Matcher.quoteReplacement(options.qualified(table)));
    }

    private static List<String> split(String sql) {
        List<String> result = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : sql.split("\n")) {
            // the scripts hold no string literal with "--": everything after it is a comment
            String code = line.contains("--") ? line.substring(0, line.indexOf("--")) : line;
            String trimmed = code.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            current.append(code).append('\n');
            if (trimmed.endsWith(";")) {
                String statement = current.toString().strip();
                result.add(statement.substring(0, statement.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            result.add(current.toString().strip());
        }
        return List.copyOf(result);
    }
}

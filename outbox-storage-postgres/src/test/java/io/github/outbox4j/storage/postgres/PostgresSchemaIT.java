package io.github.outbox4j.storage.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.spi.StoredMessage;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What only PostgreSQL has: schemas created on demand, partial indexes, its identifier length. */
class PostgresSchemaIT {
    private DataSource dataSource;
    private TestTables tables;

    @BeforeEach
    void createTables() {
        dataSource = TestServices.postgres();
        tables = TestTables.create(dataSource);
        new PostgresOutboxStorage(dataSource, tables.options()).initialize();
    }

    @AfterEach
    void dropTables() {
        if (tables != null) {
            tables.close();
        }
    }

    @Test
    void aConfiguredSchemaIsCreatedWithTheTablesInIt() throws SQLException {
        String schema = "outbox_it_%08x".formatted(ThreadLocalRandom.current().nextInt());
        StorageOptions options = tables.optionsBuilder().schema(schema).build();
        try {
            PostgresOutboxStorage storage = new PostgresOutboxStorage(dataSource, options);
            storage.initialize();

            Instant now = Instant.parse("2030-01-01T00:00:00Z");
            StoredMessage message = StoredMessage.pending(
                    UUID.randomUUID().toString(), null, "order.paid", null, Map.of(), "{}", now, now);
            try (Connection connection = dataSource.getConnection()) {
                storage.insertPublished(connection, message);
            }
            assertThat(count(schema + "." + tables.publishedTable())).isEqualTo(1);
            assertThat(count(tables.publishedTable()))
                    .as("not in the default schema")
                    .isZero();
            assertThat(storage.claimDue(MessageKind.PUBLISHED, now, now.plusSeconds(30), 10))
                    .extracting(StoredMessage::id)
                    .containsExactly(message.id());
        } finally {
            try (Connection connection = dataSource.getConnection();
                    Statement statement = connection.createStatement()) {
                statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    @Test
    void theClaimThePurgeAndTheFailedRowsCanUseTheirPartialIndexes() throws SQLException {
        String published = tables.publishedTable();
        String received = tables.receivedTable();

        // with sequential scans priced out, the plan shows whether the partial index can answer the query at all:
        // a predicate it cannot prove implies "IS NOT NULL" would leave the index unused
        assertThat(plan(PostgresOutboxStorage.claimSql(published, false), 3)).contains(published + "_due_idx");
        assertThat(plan(PostgresOutboxStorage.claimSql(received, true), 3)).contains(received + "_due_idx");
        PostgresOutboxStorage storage = new PostgresOutboxStorage(dataSource, tables.options());
        assertThat(plan(storage.purgeSql(published), 2)).contains(published + "_expiry_idx");
        assertThat(plan(storage.purgeSql(received), 2)).contains(received + "_expiry_idx");
        // the statements of JdbcOutboxStorage.countFailed and of browse(kind, FAILED, null, offset, limit)
        assertThat(plan("SELECT count(*) FROM " + published + " WHERE status = 'FAILED'", 0))
                .contains(published + "_failed_idx");
        assertThat(plan("SELECT count(*) FROM " + received + " WHERE status = 'FAILED'", 0))
                .contains(received + "_failed_idx");
        assertThat(plan("SELECT id FROM " + published + " WHERE 1 = 1 AND status = 'FAILED' ORDER BY added_at DESC", 0))
                .contains(published + "_failed_idx");
    }

    @Test
    void aTableNameTooLongForTheDerivedIndexNamesIsRejectedNamingTheProperty() {
        String tooLong = "t".repeat(51);
        StorageOptions options = tables.optionsBuilder().publishedTable(tooLong).build();

        assertThatThrownBy(() -> new PostgresOutboxStorage(dataSource, options).initialize())
                .isInstanceOf(OutboxConfigurationException.class)
                .hasMessageContaining("outbox.storage.published-table")
                .hasMessageContaining(tooLong);
    }

    private String plan(String sql, int parameters) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                statement.execute("SET LOCAL enable_seqscan = off");
            }
            StringBuilder plan = new StringBuilder();
            try (PreparedStatement explain = connection.prepareStatement("EXPLAIN " + sql)) {
                OffsetDateTime now = OffsetDateTime.of(2030, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
                for (int i = 1; i <= parameters; i++) {
                    if (i == 2) {
                        explain.setInt(i, 100);
                    } else {
                        explain.setObject(i, now);
                    }
                }
                try (ResultSet lines = explain.executeQuery()) {
                    while (lines.next()) {
                        plan.append(lines.getString(1)).append('\n');
                    }
                }
            } finally {
                connection.rollback();
            }
            return plan.toString();
        }
    }

    private int count(String table) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement();
                ResultSet resultSet = statement.executeQuery("SELECT COUNT(*) FROM " + table)) {
            resultSet.next();
            return resultSet.getInt(1);
        }
    }
}

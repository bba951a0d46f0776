package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.spi.StorageOptions;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import javax.sql.DataSource;

/**
 * A table of effect rows, one row per application of a message's effect, written by handlers in the inbox
 * transaction. It has no unique constraint, so that an effect applied twice shows as a second row.
 */
final class Effects {
    private final DataSource dataSource;
    private final String table;

    /**
     * Creates {@code table}, where {@link #apply} writes. It has no unique constraint: an effect applied twice must
     * show as a second row.
     */
    static void createTable(DataSource dataSource, String table) {
        Sql.execute(
                dataSource, "CREATE TABLE " + table + " (message_id varchar(128) NOT NULL, sequence integer NOT NULL)");
    }

    /**
     * Applies a message's effect from its handler: one row {@code (message_id, sequence)} in {@code table}, written
     * in the handler's transaction through {@link ReceivedMessage#connection()}.
     */
    static void apply(String table, ReceivedMessage message, int sequence) throws SQLException {
        try (PreparedStatement insert = message.connection()
                .prepareStatement("INSERT INTO " + table + " (message_id, sequence) VALUES (?, ?)")) {
            insert.setString(1, message.id());
            insert.setInt(2, sequence);
            insert.executeUpdate();
        }
    }

    /** Reads {@code table} (its column {@code message_id}) through {@code dataSource}. */
    Effects(DataSource dataSource, String table) {
        this.dataSource = dataSource;
        this.table = table;
    }

    /** Committed messages without an effect. */
    long lost(Set<String> committed) {
        Set<String> applied =
                Sql.tally(dataSource, "SELECT message_id FROM " + table).keySet();
        return committed.stream().filter(id -> !applied.contains(id)).count();
    }

    /** Messages with more than one effect row. */
    long appliedTwice() {
        return Sql.count(
                dataSource,
                "SELECT count(*) FROM (SELECT message_id FROM " + table + " GROUP BY message_id HAVING count(*) > 1)"
                        + " twice");
    }

    /** Messages with at least one effect row. */
    long distinct() {
        return Sql.count(dataSource, "SELECT count(DISTINCT message_id) FROM " + table);
    }

    /** Waits until no outbox or inbox row is left to process and every committed message has its effect. */
    void awaitSettled(StorageOptions tables, Set<String> committed, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertThat(unfinished(tables.publishedTable()))
                    .as("published rows unfinished")
                    .isZero();
            assertThat(unfinished(tables.receivedTable()))
                    .as("received rows unfinished")
                    .isZero();
            assertThat(lost(committed)).as("committed messages without effect").isZero();
        });
    }

    /** Rows of {@code table} in {@code status}. */
    long rows(String table, String status) {
        return Sql.count(dataSource, "SELECT count(*) FROM " + table + " WHERE status = '" + status + "'");
    }

    private long unfinished(String table) {
        return rows(table, "PENDING") + rows(table, "RETRYING");
    }
}

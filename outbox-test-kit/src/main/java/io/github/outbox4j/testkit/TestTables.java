package io.github.outbox4j.testkit;

import io.github.outbox4j.spi.StorageOptions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;

/**
 * Table names of one test, unique so that tests sharing a database (several modules, several JVMs, a
 * developer's run next to CI's) never see each other's rows: {@code msg_published_<suffix>} and
 * {@code msg_received_<suffix>} with a random 8-hex-digit suffix. {@link #close()} drops both tables.
 *
 * <p>Use one instance per test, e.g. created in {@code @BeforeEach} and closed in {@code @AfterEach}. Not
 * thread-safe; it holds no state besides the names.
 */
public final class TestTables implements AutoCloseable {
    private final DataSource dataSource;
    private final String publishedTable;
    private final String receivedTable;

    private TestTables(DataSource dataSource, String suffix) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.publishedTable = StorageOptions.DEFAULT_PUBLISHED_TABLE + "_" + suffix;
        this.receivedTable = StorageOptions.DEFAULT_RECEIVED_TABLE + "_" + suffix;
    }

    /** New unique names on {@code dataSource}'s default schema; nothing is created yet. */
    public static TestTables create(DataSource dataSource) {
        return new TestTables(
                dataSource, "%08x".formatted(ThreadLocalRandom.current().nextInt()));
    }

    public String publishedTable() {
        return publishedTable;
    }

    public String receivedTable() {
        return receivedTable;
    }

    /** Options with this test's table names, otherwise the defaults (schema initialization on). */
    public StorageOptions options() {
        return optionsBuilder().build();
    }

    /** A builder preset with this test's table names, to change other options. */
    public StorageOptions.Builder optionsBuilder() {
        return StorageOptions.builder().publishedTable(publishedTable).receivedTable(receivedTable);
    }

    /** Drops both tables if they exist. */
    @Override
    public void close() {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement()) {
            connection.setAutoCommit(true);
            statement.execute("DROP TABLE IF EXISTS " + publishedTable);
            statement.execute("DROP TABLE IF EXISTS " + receivedTable);
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot drop test tables " + publishedTable + ", " + receivedTable, e);
        }
    }

    @Override
    public String toString() {
        return publishedTable + ", " + receivedTable;
    }
}

package io.github.outbox4j.storage.postgres;

import io.github.outbox4j.OutboxException;
import io.github.outbox4j.jdbc.JdbcOutboxStorage;
import io.github.outbox4j.jdbc.SchemaScript;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.spi.StoredMessage;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * {@link io.github.outbox4j.spi.OutboxStorage} on PostgreSQL 12 or later, with the tables of
 * {@code io/github/outbox4j/storage/postgres/schema.sql}.
 *
 * <p>A claim is one statement: it picks the due rows with {@code FOR UPDATE SKIP LOCKED}, so claimers on other
 * instances skip each other's rows instead of waiting for them, and moves them to the end of their lease. It
 * commits before the rows are returned, so no lock is held while they are sent. Duplicates are recognized by
 * SQLState {@code 23505}. Times are bound as UTC {@code timestamptz} values, independent of the JVM and session
 * time zones, at microsecond precision (PostgreSQL's).
 *
 * <p>Thread-safe; every statement is formatted once, in the constructor.
 */
public final class PostgresOutboxStorage extends JdbcOutboxStorage {
    static final String SCHEMA_RESOURCE = "schema.sql";
    static final int MINIMUM_MAJOR_VERSION = 12;

    private static final String UNIQUE_VIOLATION = "23505";

    private static final int MAX_IDENTIFIER_LENGTH = 63;

    // Any constant works, as long as every instance uses the same: it only serializes schema initialization
    private static final long SCHEMA_LOCK = 0x6f7574626f78346aL; // "outbox4j"

    private final String claimPublished;
    private final String claimReceived;
    private final String completeAllPublished;
    private final String completeAllReceived;

    public PostgresOutboxStorage(DataSource dataSource, StorageOptions options) {
        super(dataSource, options);
        this.claimPublished = claimSql(options.qualified(options.publishedTable()), false);
        this.claimReceived = claimSql(options.qualified(options.receivedTable()), true);
        this.completeAllPublished = completeAllSql(options.qualified(options.publishedTable()), false);
        this.completeAllReceived = completeAllSql(options.qualified(options.receivedTable()), true);
    }

    /**
     * The rows are locked and picked in the materialized CTE, then moved to the lease by the UPDATE joined to it.
     * RETURNING gives no order, and its next_attempt_at is already the lease, so the CTE's due time is returned
     * alongside to restore the earliest-first order. MATERIALIZED keeps the locking subquery from being inlined
     * and re-evaluated per row.
     */
    static String claimSql(String table, boolean received) {
        String key = received ? "id, group_name" : "id";
        String dueKey = received ? "due_id, due_group" : "due_id";
        String join = received ? "t.id = due.due_id AND t.group_name = due.due_group" : "t.id = due.due_id";
        return "WITH due (" + dueKey + ", due_at) AS MATERIALIZED ("
                + " SELECT " + key + ", next_attempt_at FROM " + table
                + " WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)"
                + " UPDATE " + table + " AS t SET next_attempt_at = ?, version = t.version + 1"
                + " FROM due WHERE " + join
                + " RETURNING " + selectColumns(received) + ", due.due_at";
    }

    @Override
    protected List<StoredMessage> claim(
            Connection connection, String table, boolean received, Instant now, Instant leaseUntil, int limit)
            throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(received ? claimReceived : claimPublished)) {
            setInstant(statement, 1, now);
            statement.setInt(2, limit);
            setInstant(statement, 3, leaseUntil);
            List<Claimed> claimed = new ArrayList<>(Math.min(limit, 1_000));
            try (ResultSet resultSet = statement.executeQuery()) {
                while (resultSet.next()) {
                    claimed.add(new Claimed(map(resultSet), getInstant(resultSet, 14)));
                }
            }
            claimed.sort(Comparator.comparing(Claimed::dueAt));
            return claimed.stream().map(Claimed::message).toList();
        }
    }

    private record Claimed(StoredMessage message, Instant dueAt) {}

    /**
     * A delivery in one statement: rows the group received before are skipped rather than failing (a failed
     * statement would abort the transaction), and RETURNING names the rows inserted. No savepoint around it: that
     * would be two more round trips and a subtransaction per delivery.
     */
    @Override
    protected String insertNewReturningKeysSql(String insertSql) {
        return insertSql + " ON CONFLICT DO NOTHING RETURNING id, group_name";
    }

    /**
     * The fenced outcome update for a whole batch: the outcomes come as one array per column, unnest turns them
     * into rows joined to the table by key and version, and RETURNING names the rows written with the version
     * they had. One statement instead of one per row.
     */
    static String completeAllSql(String table, boolean received) {
        String groupColumn = received ? ", group_name" : "";
        return "UPDATE " + table + " AS t SET status = o.status, attempts = o.attempts,"
                + " next_attempt_at = o.next_attempt_at, expires_at = o.expires_at, last_error = o.last_error,"
                + " version = t.version + 1"
                + " FROM unnest(?::text[], ?::int[], ?::text[], ?::int[], ?::timestamptz[], ?::timestamptz[],"
                + " ?::text[]" + (received ? ", ?::text[]" : "") + ")"
                + " AS o(id, version, status, attempts, next_attempt_at, expires_at, last_error" + groupColumn + ")"
                + " WHERE t.id = o.id AND t.version = o.version" + (received ? " AND t.group_name = o.group_name" : "")
                + " RETURNING t.id, t.version - 1" + (received ? ", t.group_name" : "");
    }

    @Override
    protected List<MessageOutcome> writeAll(
            Connection connection, String table, boolean received, List<MessageOutcome> outcomes) throws SQLException {
        int size = outcomes.size();
        String[] ids = new String[size];
        Integer[] versions = new Integer[size];
        String[] statuses = new String[size];
        Integer[] attempts = new Integer[size];
        String[] nextAttempts = new String[size];
        String[] expiries = new String[size];
        String[] errors = new String[size];
        String[] groups = new String[size];
        Map<String, MessageOutcome> byKey = new HashMap<>(size * 2);
        for (int i = 0; i < size; i++) {
            MessageOutcome outcome = outcomes.get(i);
            ids[i] = outcome.id();
            versions[i] = outcome.expectedVersion();
            statuses[i] = outcome.status().name();
            attempts[i] = outcome.attempts();
            nextAttempts[i] = timestampText(outcome.nextAttemptAt());
            expiries[i] = timestampText(outcome.expiresAt());
            errors[i] = truncate(outcome.lastError());
            groups[i] = outcome.group();
            byKey.put(key(outcome.id(), received ? outcome.group() : null, outcome.expectedVersion()), outcome);
        }
        try (PreparedStatement statement =
                connection.prepareStatement(received ? completeAllReceived : completeAllPublished)) {
            statement.setArray(1, connection.createArrayOf("text", ids));
            statement.setArray(2, connection.createArrayOf("int4", versions));
            statement.setArray(3, connection.createArrayOf("text", statuses));
            statement.setArray(4, connection.createArrayOf("int4", attempts));
            statement.setArray(5, connection.createArrayOf("timestamptz", nextAttempts));
            statement.setArray(6, connection.createArrayOf("timestamptz", expiries));
            statement.setArray(7, connection.createArrayOf("text", errors));
            if (received) {
                statement.setArray(8, connection.createArrayOf("text", groups));
            }
            Set<MessageOutcome> written = new HashSet<>(size * 2);
            try (ResultSet resultSet = statement.executeQuery()) {
                while (resultSet.next()) {
                    written.add(byKey.get(key(
                            resultSet.getString(1), received ? resultSet.getString(3) : null, resultSet.getInt(2))));
                }
            }
            return outcomes.stream().filter(written::contains).toList();
        }
    }

    /** Which outcome a returned row answers: its key and the version the outcome expected. */
    private static String key(String id, String group, int expectedVersion) {
        return id + '\u0000' + group + '\u0000' + expectedVersion;
    }

    /** An instant as timestamptz text, truncated to what the column keeps, like {@link #setInstant}. */
    private static String timestampText(Instant instant) {
        return instant == null ? null : instant.truncatedTo(ChronoUnit.MICROS).toString();
    }

    @Override
    protected String purgeSql(String table) {
        // ctid = ANY(ARRAY(..)) runs as a TID scan over the few rows the index found; "ctid IN (SELECT ..)" may be
        // planned as a join over the whole table. A row changed meanwhile has a new ctid and is left alone.
        return "DELETE FROM " + table + " WHERE ctid = ANY (ARRAY (SELECT ctid FROM " + table
                + " WHERE expires_at < ? AND next_attempt_at IS NULL LIMIT ?))";
    }

    @Override
    protected void initialize(Connection connection) throws SQLException {
        DatabaseMetaData metaData = connection.getMetaData();
        if (metaData.getDatabaseMajorVersion() < MINIMUM_MAJOR_VERSION) {
            throw new OutboxException("PostgreSQL " + metaData.getDatabaseProductVersion()
                    + " is not supported: Outbox4j needs PostgreSQL " + MINIMUM_MAJOR_VERSION
                    + " or later (for CTEs AS MATERIALIZED with FOR UPDATE SKIP LOCKED)");
        }
        if (options().initializeSchema()) {
            requireDerivedNamesFit(MAX_IDENTIFIER_LENGTH);
            createSchema(connection);
        }
        verifyTables(connection, "io/github/outbox4j/storage/postgres/" + SCHEMA_RESOURCE);
    }

    private void createSchema(Connection connection) throws SQLException {
        SchemaScript script = SchemaScript.load(PostgresOutboxStorage.class, SCHEMA_RESOURCE, options());
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
            try (Statement statement = connection.createStatement()) {
                // Two instances starting at once would both pass IF NOT EXISTS and one would fail on the catalog's
                // unique index; the lock makes the second wait, then find everything in place
                statement.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")");
                if (options().schema().isPresent()) {
                    statement.execute(
                            "CREATE SCHEMA IF NOT EXISTS " + options().schema().get());
                }
            }
            script.execute(connection);
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    @Override
    protected void setInstant(PreparedStatement statement, int index, Instant instant) throws SQLException {
        if (instant == null) {
            statement.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            // truncated here rather than rounded by the server, so that what is returned equals what is stored
            statement.setObject(
                    index, OffsetDateTime.ofInstant(instant.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC));
        }
    }

    @Override
    protected Instant getInstant(ResultSet resultSet, int column) throws SQLException {
        OffsetDateTime value = resultSet.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    @Override
    protected boolean isDuplicateKey(SQLException error) {
        return UNIQUE_VIOLATION.equals(error.getSQLState());
    }
}

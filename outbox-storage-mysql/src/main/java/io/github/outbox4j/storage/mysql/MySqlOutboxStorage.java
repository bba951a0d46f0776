package io.github.outbox4j.storage.mysql;

import io.github.outbox4j.MessageKind;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.jdbc.JdbcOutboxStorage;
import io.github.outbox4j.jdbc.SchemaScript;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.spi.StoredMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * {@link io.github.outbox4j.spi.OutboxStorage} on MySQL 8.0.1+ or MariaDB 10.6+ (InnoDB), with the tables of
 * {@code io/github/outbox4j/storage/mysql/schema.sql}. Works through MySQL Connector/J, also against MariaDB, and
 * through MariaDB Connector/J.
 *
 * <p>A claim is one short transaction: the due rows are selected with {@code FOR UPDATE SKIP LOCKED}, so claimers
 * on other instances skip each other's rows instead of waiting, then moved to the end of their lease by one
 * update on their keys. It commits before the rows are returned, so no lock is held while they are sent. Claims
 * and purges run at {@code READ COMMITTED}: InnoDB then locks only the rows it returns, not the gaps between
 * index entries, which at the default {@code REPEATABLE READ} would hold up the application's own inserts of new
 * messages for the length of a claim.
 *
 * <p>Duplicates are recognized by the vendor code 1062 (SQLState 23000 covers every integrity violation). Times
 * are stored as UTC {@code datetime(6)} values, converted here, so neither the JVM's nor the server's nor the
 * session's time zone matters; they are truncated to microseconds here rather than rounded by the server.
 *
 * <p>Thread-safe; the fixed statements are formatted once, in the constructor.
 */
public final class MySqlOutboxStorage extends JdbcOutboxStorage {
    static final String SCHEMA_RESOURCE = "schema.sql";

    private static final int DUPLICATE_ENTRY = 1062;

    // microseconds, datetime(6)'s precision: finer digits are cut here rather than rounded by the server
    private static final DateTimeFormatter DATETIME = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS");

    private static final int MAX_IDENTIFIER_LENGTH = 64;

    private final String selectDuePublished;
    private final String selectDueReceived;

    public MySqlOutboxStorage(DataSource dataSource, StorageOptions options) {
        super(dataSource, options);
        this.selectDuePublished = selectDueSql(options.qualified(options.publishedTable()), false);
        this.selectDueReceived = selectDueSql(options.qualified(options.receivedTable()), true);
    }

    private static String selectDueSql(String table, boolean received) {
        return "SELECT " + selectColumns(received) + " FROM " + table
                + " WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED";
    }

    /**
     * The update moving {@code rows} claimed rows to their lease. The keys are listed so that InnoDB reads them as
     * point ranges of the primary key; an IN list of row constructors would do on MySQL, the OR form is planned the
     * same by every supported MariaDB too.
     */
    static String leaseSql(String table, boolean received, int rows) {
        return "UPDATE " + table + " SET next_attempt_at = ?, version = version + 1 WHERE " + keys(received, rows);
    }

    private static String keys(boolean received, int rows) {
        return received
                ? String.join(" OR ", Collections.nCopies(rows, "(id = ? AND group_name = ?)"))
                : "id IN (" + String.join(", ", Collections.nCopies(rows, "?")) + ")";
    }

    /** Locks {@code rows} rows by key and reads their versions. */
    static String lockVersionsSql(String table, boolean received, int rows) {
        return "SELECT id, version" + (received ? ", group_name" : "") + " FROM " + table + " WHERE "
                + keys(received, rows) + " FOR UPDATE";
    }

    /**
     * The outcome update for {@code rows} rows that get the same values and expect the same version: one statement
     * with their keys, as cheap for InnoDB as the lease update. A batch's outcomes need only a few of them: most are
     * the same success, and the engine keeps expiry times to the second.
     */
    static String completeSameSql(String table, boolean received, int rows) {
        return "UPDATE " + table + " SET status = ?, attempts = ?, next_attempt_at = ?, expires_at = ?,"
                + " last_error = ?, version = version + 1 WHERE version = ? AND "
                + (received ? "group_name = ? AND " : "") + "id IN ("
                + String.join(", ", Collections.nCopies(rows, "?")) + ")";
    }

    /** What an outcome writes and the version it expects; such outcomes are written by one statement. */
    private record Values(
            String status,
            int attempts,
            Instant nextAttemptAt,
            Instant expiresAt,
            String lastError,
            int expectedVersion,
            String group) {
        static Values of(MessageOutcome outcome, boolean received) {
            return new Values(
                    outcome.status().name(),
                    outcome.attempts(),
                    outcome.nextAttemptAt(),
                    outcome.expiresAt(),
                    truncate(outcome.lastError()),
                    outcome.expectedVersion(),
                    received ? outcome.group() : null);
        }
    }

    /**
     * Writes the outcomes whose rows still have the version they expect. MySQL has no RETURNING for UPDATE, and a
     * row count does not tell which rows of a statement were fenced off, so: first every outcome is written as if
     * none was (the usual case); if a statement finds fewer rows than it names, that is undone, the rows are locked
     * and their versions read, and only the outcomes that still apply are written.
     */
    @Override
    protected List<MessageOutcome> writeAll(
            Connection connection, String table, boolean received, List<MessageOutcome> outcomes) throws SQLException {
        Savepoint beforeWrite = connection.setSavepoint();
        if (writeGrouped(connection, table, received, outcomes)) {
            return outcomes;
        }
        connection.rollback(beforeWrite);
        List<MessageOutcome> current = stillCurrent(connection, table, received, outcomes);
        if (!writeGrouped(connection, table, received, current)) {
            // cannot happen while the rows stay locked; if it does, roll back rather than report a wrong set
            throw new SQLException("Could not record " + current.size() + " outcomes in " + table
                    + " although their rows were locked with the versions the outcomes expect");
        }
        return current;
    }

    /** Locks the outcomes' rows until commit and returns the outcomes whose row has the version they expect. */
    private List<MessageOutcome> stillCurrent(
            Connection connection, String table, boolean received, List<MessageOutcome> outcomes) throws SQLException {
        Map<String, Integer> versions = new HashMap<>(outcomes.size() * 2);
        try (PreparedStatement lock = connection.prepareStatement(lockVersionsSql(table, received, outcomes.size()))) {
            int i = 1;
            for (MessageOutcome outcome : outcomes) {
                lock.setString(i++, outcome.id());
                if (received) {
                    lock.setString(i++, outcome.group());
                }
            }
            try (ResultSet resultSet = lock.executeQuery()) {
                while (resultSet.next()) {
                    versions.put(
                            key(resultSet.getString(1), received ? resultSet.getString(3) : null), resultSet.getInt(2));
                }
            }
        }
        return outcomes.stream()
                .filter(outcome -> Integer.valueOf(outcome.expectedVersion())
                        .equals(versions.get(key(outcome.id(), received ? outcome.group() : null))))
                .toList();
    }

    /** Writes {@code outcomes}, one statement per set of equal values; returns whether each found its row. */
    private boolean writeGrouped(Connection connection, String table, boolean received, List<MessageOutcome> outcomes)
            throws SQLException {
        Map<Values, List<String>> idsByValues = new LinkedHashMap<>();
        for (MessageOutcome outcome : outcomes) {
            idsByValues
                    .computeIfAbsent(Values.of(outcome, received), values -> new ArrayList<>())
                    .add(outcome.id());
        }
        for (Map.Entry<Values, List<String>> entry : idsByValues.entrySet()) {
            if (writeSame(connection, table, received, entry.getKey(), entry.getValue())
                    != entry.getValue().size()) {
                return false;
            }
        }
        return true;
    }

    private int writeSame(Connection connection, String table, boolean received, Values values, List<String> ids)
            throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(completeSameSql(table, received, ids.size()))) {
            int i = 1;
            update.setString(i++, values.status());
            update.setInt(i++, values.attempts());
            setInstant(update, i++, values.nextAttemptAt());
            setInstant(update, i++, values.expiresAt());
            update.setString(i++, values.lastError());
            update.setInt(i++, values.expectedVersion());
            if (received) {
                update.setString(i++, values.group());
            }
            for (String id : ids) {
                update.setString(i++, id);
            }
            return update.executeUpdate();
        }
    }

    private static String key(String id, String group) {
        return group == null ? id : id + '\u0000' + group;
    }

    @Override
    protected List<StoredMessage> claim(
            Connection connection, String table, boolean received, Instant now, Instant leaseUntil, int limit)
            throws SQLException {
        readCommitted(connection);
        List<StoredMessage> due = new ArrayList<>(Math.min(limit, 1_000));
        try (PreparedStatement select =
                connection.prepareStatement(received ? selectDueReceived : selectDuePublished)) {
            setInstant(select, 1, now);
            select.setInt(2, limit);
            try (ResultSet resultSet = select.executeQuery()) {
                while (resultSet.next()) {
                    due.add(map(resultSet));
                }
            }
        }
        if (due.isEmpty()) {
            return List.of();
        }
        Instant lease = leaseUntil.truncatedTo(ChronoUnit.MICROS);
        try (PreparedStatement update = connection.prepareStatement(leaseSql(table, received, due.size()))) {
            int i = 1;
            setInstant(update, i++, lease);
            for (StoredMessage message : due) {
                update.setString(i++, message.id());
                if (received) {
                    update.setString(i++, message.group());
                }
            }
            int moved = update.executeUpdate();
            if (moved != due.size()) {
                // cannot happen while the rows stay locked; if it does, roll back rather than hand out unleased rows
                throw new SQLException(
                        "Claimed " + due.size() + " rows of " + table + " but moved " + moved + " to their lease");
            }
        }
        // the rows were locked since the select, so their new version is exactly one more
        return due.stream().map(message -> leased(message, lease)).toList();
    }

    private static StoredMessage leased(StoredMessage message, Instant lease) {
        return new StoredMessage(
                message.id(),
                message.group(),
                message.topic(),
                message.key(),
                message.headers(),
                message.payload(),
                message.status(),
                message.attempts(),
                message.addedAt(),
                lease,
                message.expiresAt(),
                message.lastError(),
                message.version() + 1);
    }

    @Override
    public int purgeExpired(MessageKind kind, Instant now, int limit) {
        String table = options()
                .qualified(
                        kind == MessageKind.PUBLISHED
                                ? options().publishedTable()
                                : options().receivedTable());
        // the base class's purge, at READ COMMITTED (see the class comment)
        return inTransaction("purge expired rows of " + table, connection -> {
            readCommitted(connection);
            try (PreparedStatement statement = connection.prepareStatement(purgeSql(table))) {
                setInstant(statement, 1, now);
                statement.setInt(2, limit);
                return statement.executeUpdate();
            }
        });
    }

    @Override
    protected String purgeSql(String table) {
        return "DELETE FROM " + table + " WHERE expires_at < ? AND next_attempt_at IS NULL LIMIT ?";
    }

    /**
     * Sets the isolation of the transaction about to start on {@code connection}. {@code SET TRANSACTION} without
     * {@code SESSION} applies to the next transaction only, so the connection goes back to the pool as it came.
     */
    private static void readCommitted(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
        }
    }

    @Override
    protected void initialize(Connection connection) throws SQLException {
        String productVersion = connection.getMetaData().getDatabaseProductVersion();
        MySqlServerVersion version = MySqlServerVersion.parse(productVersion);
        if (!version.supportsSkipLocked()) {
            throw new OutboxException(version + " ('" + productVersion + "') is not supported: Outbox4j needs "
                    + version.minimum() + " or later (for SELECT ... FOR UPDATE SKIP LOCKED); MySQL 8.0.1+ and"
                    + " MariaDB 10.6+ are supported");
        }
        if (options().initializeSchema()) {
            requireDerivedNamesFit(MAX_IDENTIFIER_LENGTH);
            // each CREATE TABLE commits on its own in MySQL; IF NOT EXISTS makes a concurrent start harmless
            SchemaScript.load(MySqlOutboxStorage.class, SCHEMA_RESOURCE, options())
                    .execute(connection);
        }
        verifyTables(connection, "io/github/outbox4j/storage/mysql/" + SCHEMA_RESOURCE);
    }

    /**
     * Binds the instant as the text of a UTC {@code datetime(6)} literal, which the server converts exactly.
     * Binding a {@link LocalDateTime} would be the obvious way, but MySQL Connector/J takes a MariaDB 10.x server
     * for MySQL 5.5.5 (the version MariaDB announces for compatibility) and silently drops the fractional seconds.
     */
    @Override
    protected void setInstant(PreparedStatement statement, int index, Instant instant) throws SQLException {
        if (instant == null) {
            statement.setNull(index, Types.TIMESTAMP);
        } else {
            statement.setString(index, DATETIME.format(LocalDateTime.ofInstant(instant, ZoneOffset.UTC)));
        }
    }

    @Override
    protected Instant getInstant(ResultSet resultSet, int column) throws SQLException {
        LocalDateTime value = resultSet.getObject(column, LocalDateTime.class);
        return value == null ? null : value.toInstant(ZoneOffset.UTC);
    }

    @Override
    protected boolean isDuplicateKey(SQLException error) {
        return error.getErrorCode() == DUPLICATE_ENTRY;
    }
}

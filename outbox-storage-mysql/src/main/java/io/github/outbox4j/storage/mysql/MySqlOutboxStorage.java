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
     * The outcome update for {@code rows} rows: a derived table of one SELECT per outcome, joined to the table by
     * key and version. MySQL has no RETURNING for UPDATE, so the rows are locked and their versions read first.
     */
    static String completeAllSql(String table, boolean received, int rows) {
        String first = "SELECT ? AS id, " + (received ? "? AS group_name, " : "")
                + "CAST(? AS SIGNED) AS version, ? AS status, CAST(? AS SIGNED) AS attempts,"
                + " CAST(? AS DATETIME(6)) AS next_attempt_at, CAST(? AS DATETIME(6)) AS expires_at, ? AS last_error";
        String next = " UNION ALL SELECT ?, " + (received ? "?, " : "")
                + "CAST(? AS SIGNED), ?, CAST(? AS SIGNED), CAST(? AS DATETIME(6)), CAST(? AS DATETIME(6)), ?";
        return "UPDATE " + table + " AS t JOIN (" + first + next.repeat(rows - 1) + ") AS o"
                + " ON t.id = o.id" + (received ? " AND t.group_name = o.group_name" : "")
                + " AND t.version = o.version"
                + " SET t.status = o.status, t.attempts = o.attempts, t.next_attempt_at = o.next_attempt_at,"
                + " t.expires_at = o.expires_at, t.last_error = o.last_error, t.version = t.version + 1";
    }

    @Override
    protected List<MessageOutcome> writeAll(
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
        // locked until commit: an outcome whose row has the version it expects is the one written
        List<MessageOutcome> current = outcomes.stream()
                .filter(outcome -> Integer.valueOf(outcome.expectedVersion())
                        .equals(versions.get(key(outcome.id(), received ? outcome.group() : null))))
                .toList();
        if (current.isEmpty()) {
            return current;
        }
        try (PreparedStatement update = connection.prepareStatement(completeAllSql(table, received, current.size()))) {
            int i = 1;
            for (MessageOutcome outcome : current) {
                update.setString(i++, outcome.id());
                if (received) {
                    update.setString(i++, outcome.group());
                }
                update.setInt(i++, outcome.expectedVersion());
                update.setString(i++, outcome.status().name());
                update.setInt(i++, outcome.attempts());
                setInstant(update, i++, outcome.nextAttemptAt());
                setInstant(update, i++, outcome.expiresAt());
                update.setString(i++, truncate(outcome.lastError()));
            }
            int written = update.executeUpdate();
            if (written != current.size()) {
                // cannot happen while the rows stay locked; if it does, roll back rather than report a wrong set
                throw new SQLException("Recorded " + written + " of " + current.size() + " outcomes in " + table
                        + " although their rows were locked");
            }
        }
        return current;
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

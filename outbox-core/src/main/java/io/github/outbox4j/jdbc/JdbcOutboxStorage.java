package io.github.outbox4j.jdbc;

import io.github.outbox4j.DuplicateMessageException;
import io.github.outbox4j.MessageKind;
import io.github.outbox4j.MessageStatus;
import io.github.outbox4j.OutboxConfigurationException;
import io.github.outbox4j.OutboxException;
import io.github.outbox4j.spi.MessageOutcome;
import io.github.outbox4j.spi.OutboxStorage;
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
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The JDBC logic every SQL database shares: inserts, fenced outcome updates, purges and row mapping. A
 * dialect adds its DDL, its claim statement, how it binds timestamps and how it reports duplicates.
 *
 * <p>Every statement is built once, in the constructor, from validated table names. Thread-safe.
 */
public abstract class JdbcOutboxStorage implements OutboxStorage {

    private static final String COLUMNS =
            "id, group_name, topic, msg_key, headers, payload, status, attempts, added_at, next_attempt_at,"
                    + " expires_at, last_error, version";

    private static final int MAX_ERROR_LENGTH = 2000;
    private static final int MAX_CLAIM_ATTEMPTS = 3;
    /** Received rows per multi-row INSERT: 13 parameters each, well under every driver's limit. */
    static final int MAX_ROWS_PER_INSERT = 100;

    private final DataSource dataSource;
    private final StorageOptions options;
    private final Statements published;
    private final Statements received;

    protected JdbcOutboxStorage(DataSource dataSource, StorageOptions options) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.options = Objects.requireNonNull(options, "options");
        this.published = new Statements(options.qualified(options.publishedTable()), false);
        this.received = new Statements(options.qualified(options.receivedTable()), true);
    }

    /**
     * The SQL that the dialect runs to claim due rows of {@code table}, given the rows' key columns. See
     * {@link #claim(Connection, String, boolean, Instant, Instant, int)}.
     */
    protected abstract List<StoredMessage> claim(
            Connection connection, String table, boolean received, Instant now, Instant leaseUntil, int limit)
            throws SQLException;

    /** Checks the server version and creates the tables when asked to; see {@link StorageOptions}. */
    protected abstract void initialize(Connection connection) throws SQLException;

    /** Binds an instant (or {@code null}) as a UTC timestamp. */
    protected abstract void setInstant(PreparedStatement statement, int index, Instant instant) throws SQLException;

    /** Reads a UTC timestamp column as an instant (or {@code null}). */
    protected abstract Instant getInstant(ResultSet resultSet, int column) throws SQLException;

    /** Whether {@code error} reports a unique-key violation, judged by SQLState and vendor code. */
    protected abstract boolean isDuplicateKey(SQLException error);

    /**
     * Refuses table names too long for the index and constraint names derived from them: the longest,
     * {@code <table>_status_check}, must fit in {@code maxIdentifierLength}, or a database that truncates
     * identifiers could merge two derived names and skip creating the second.
     */
    protected final void requireDerivedNamesFit(int maxIdentifierLength) {
        int longest = maxIdentifierLength - "_status_check".length();
        requireAtMost("outbox.storage.published-table", options.publishedTable(), longest);
        requireAtMost("outbox.storage.received-table", options.receivedTable(), longest);
    }

    private static void requireAtMost(String property, String table, int longest) {
        if (table.length() > longest) {
            throw new OutboxConfigurationException(
                    property,
                    "'" + table + "' is too long to derive its index and constraint names from it: use at most "
                            + longest + " characters");
        }
    }

    /**
     * Fails early, naming the table and the script to create it with, when a table is missing or lacks a
     * column the statements use.
     */
    protected final void verifyTables(Connection connection, String schemaScript) {
        verifyTable(connection, published.table, false, schemaScript);
        verifyTable(connection, received.table, true, schemaScript);
    }

    private static void verifyTable(Connection connection, String table, boolean received, String schemaScript) {
        String probe = "SELECT " + selectColumns(received) + " FROM " + table + " WHERE 1 = 0";
        try (Statement statement = connection.createStatement()) {
            // no rows wanted: the query compiling proves the table and every column exist
            statement.execute(probe);
        } catch (SQLException e) {
            throw new OutboxException(
                    "Table " + table + " is missing or lacks Outbox4j's columns (" + e.getMessage()
                            + "): create it with " + schemaScript + " or set outbox.storage.initialize-schema=true",
                    e);
        }
    }

    protected final StorageOptions options() {
        return options;
    }

    protected final DataSource dataSource() {
        return dataSource;
    }

    @Override
    public void initialize() {
        try (Connection connection = dataSource.getConnection()) {
            initialize(connection);
        } catch (SQLException e) {
            throw new OutboxException("Cannot initialize the outbox tables: " + e.getMessage(), e);
        }
    }

    @Override
    public void insertPublished(Connection connection, StoredMessage message) {
        try (PreparedStatement statement = connection.prepareStatement(published.insert)) {
            bindInsert(statement, 1, message, false);
            statement.executeUpdate();
        } catch (SQLException e) {
            if (isDuplicateKey(e)) {
                throw new DuplicateMessageException("A published message with id " + message.id() + " exists", e);
            }
            throw new OutboxException("Cannot write message " + message.id() + " to " + published.table, e);
        }
    }

    @Override
    public boolean insertReceived(StoredMessage message) {
        return !insertReceived(List.of(message)).isEmpty();
    }

    @Override
    public List<StoredMessage> insertReceived(List<StoredMessage> messages) {
        if (messages.isEmpty()) {
            return List.of();
        }
        messages.forEach(message -> Objects.requireNonNull(message.group(), "a received message needs a group"));
        // inserted in key order, so that two transactions storing overlapping deliveries lock in one order
        List<StoredMessage> byKey = new ArrayList<>(messages);
        byKey.sort(Comparator.comparing(StoredMessage::id).thenComparing(StoredMessage::group));
        String what = messages.size() == 1
                ? "write received message " + messages.get(0).id() + " of group "
                        + messages.get(0).group() + " to " + received.table
                : "write " + messages.size() + " received messages to " + received.table;
        Set<StoredMessage> stored = inTransaction(what, connection -> insertNew(connection, byKey));
        return messages.stream().filter(stored::contains).toList();
    }

    private Set<StoredMessage> insertNew(Connection connection, List<StoredMessage> messages) throws SQLException {
        // by identity: two deliveries of one message in a batch are equal records, and only the first is new
        Set<StoredMessage> stored = Collections.newSetFromMap(new IdentityHashMap<>(messages.size() * 2));
        for (int from = 0; from < messages.size(); from += MAX_ROWS_PER_INSERT) {
            List<StoredMessage> chunk = messages.subList(from, Math.min(messages.size(), from + MAX_ROWS_PER_INSERT));
            String insert = received.insertRows(chunk.size());
            String returningKeys = insertNewReturningKeysSql(insert);
            if (returningKeys != null) {
                insertNewReturningKeys(connection, returningKeys, chunk, stored);
            } else if (chunk.size() == 1 || !insertAllNew(connection, insert, chunk)) {
                insertEachUnlessPresent(connection, chunk, stored);
            } else {
                stored.addAll(chunk);
            }
        }
        return stored;
    }

    /**
     * Where the database can say which rows one statement inserted: {@code insertSql}, a multi-row INSERT of
     * received rows, made to skip the rows already there and to return the {@code id} and {@code group_name} of
     * those it inserted. A delivery, redeliveries among it or not, then takes one statement and no savepoint. {@code
     * null}, the default, where it cannot (MySQL): a multi-row INSERT is tried whole under a savepoint, and row by
     * row after a duplicate.
     */
    protected String insertNewReturningKeysSql(String insertSql) {
        return null;
    }

    private void insertNewReturningKeys(
            Connection connection, String sql, List<StoredMessage> chunk, Set<StoredMessage> stored)
            throws SQLException {
        Set<String> inserted = new HashSet<>(chunk.size() * 2);
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            int index = 1;
            for (StoredMessage message : chunk) {
                index = bindInsert(statement, index, message, true);
            }
            try (ResultSet keys = statement.executeQuery()) {
                while (keys.next()) {
                    inserted.add(receivedKey(keys.getString(1), keys.getString(2)));
                }
            }
        }
        for (StoredMessage message : chunk) {
            // the first of two deliveries of one message in the chunk is the row inserted; remove() skips the second
            if (inserted.remove(receivedKey(message.id(), message.group()))) {
                stored.add(message);
            }
        }
    }

    private static String receivedKey(String id, String group) {
        return id + '\u0000' + group;
    }

    /**
     * Inserts {@code chunk} in one multi-row statement ({@code insert}), one round trip, if none of its rows is there
     * yet; returns {@code false} and leaves the table as it was if one is (a redelivery), for the row-by-row insert to
     * sort out.
     * Both go on in the transaction after a duplicate key error, which needs a database that rolls back only the
     * failed statement (InnoDB); one whose transaction a failed statement aborts (PostgreSQL) inserts through
     * {@link #insertNewReturningKeysSql} instead.
     */
    private boolean insertAllNew(Connection connection, String insert, List<StoredMessage> chunk) throws SQLException {
        Savepoint beforeInsert = connection.setSavepoint();
        try (PreparedStatement statement = connection.prepareStatement(insert)) {
            int index = 1;
            for (StoredMessage message : chunk) {
                index = bindInsert(statement, index, message, true);
            }
            if (statement.executeUpdate() == chunk.size()) {
                connection.releaseSavepoint(beforeInsert);
                return true;
            }
        } catch (SQLException e) {
            if (!isDuplicateKey(e)) {
                throw e;
            }
        }
        connection.rollback(beforeInsert);
        return false;
    }

    private void insertEachUnlessPresent(Connection connection, List<StoredMessage> messages, Set<StoredMessage> stored)
            throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(received.insert)) {
            for (StoredMessage message : messages) {
                bindInsert(statement, 1, message, true);
                try {
                    if (statement.executeUpdate() == 1) {
                        stored.add(message);
                    }
                } catch (SQLException e) {
                    if (!isDuplicateKey(e)) {
                        throw e;
                    }
                }
            }
        }
    }

    @Override
    public List<StoredMessage> claimDue(MessageKind kind, Instant now, Instant leaseUntil, int limit) {
        Statements statements = statements(kind);
        for (int attempt = 1; ; attempt++) {
            try {
                return inTransaction(
                        "claim due rows of " + statements.table,
                        connection -> claim(connection, statements.table, statements.received, now, leaseUntil, limit));
            } catch (OutboxException e) {
                // claimers racing for the same rows can deadlock (InnoDB); the loser's claim simply goes again
                if (attempt == MAX_CLAIM_ATTEMPTS || !isTransactionRollback(e.getCause())) {
                    throw e;
                }
            }
        }
    }

    /** SQLState class 40: the database rolled the transaction back (deadlock, serialization failure). */
    private static boolean isTransactionRollback(Throwable error) {
        return error instanceof SQLException sqlError
                && sqlError.getSQLState() != null
                && sqlError.getSQLState().startsWith("40");
    }

    @Override
    public List<MessageOutcome> complete(MessageKind kind, List<MessageOutcome> outcomes) {
        if (outcomes.isEmpty()) {
            return List.of();
        }
        return inTransaction(
                "record outcomes in " + statements(kind).table, connection -> write(connection, kind, outcomes));
    }

    @Override
    public List<MessageOutcome> complete(Connection connection, MessageKind kind, List<MessageOutcome> outcomes) {
        try {
            return write(connection, kind, outcomes);
        } catch (SQLException e) {
            throw new OutboxException("Cannot record outcomes in " + statements(kind).table, e);
        }
    }

    @Override
    public int purgeExpired(MessageKind kind, Instant now, int limit) {
        Statements statements = statements(kind);
        return inTransaction("purge expired rows of " + statements.table, connection -> {
            try (PreparedStatement statement = connection.prepareStatement(purgeSql(statements.table))) {
                setInstant(statement, 1, now);
                statement.setInt(2, limit);
                return statement.executeUpdate();
            }
        });
    }

    /**
     * The statement deleting at most {@code ?2} final rows of {@code table} whose expiry is before {@code ?1}.
     */
    protected abstract String purgeSql(String table);

    @Override
    public Optional<StoredMessage> find(MessageKind kind, String id, String group) {
        Statements statements = statements(kind);
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement(statements.find)) {
            statement.setString(1, id);
            if (statements.received) {
                statement.setString(2, group);
            }
            try (ResultSet resultSet = statement.executeQuery()) {
                return resultSet.next() ? Optional.of(map(resultSet)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new OutboxException("Cannot read message " + id + " from " + statements.table, e);
        }
    }

    @Override
    public Map<MessageStatus, Long> countByStatus(MessageKind kind) {
        Statements statements = statements(kind);
        return query("count rows of " + statements.table, statements.countByStatus, statement -> {}, resultSet -> {
            Map<MessageStatus, Long> counts = new EnumMap<>(MessageStatus.class);
            while (resultSet.next()) {
                counts.put(MessageStatus.valueOf(resultSet.getString(1)), resultSet.getLong(2));
            }
            return counts;
        });
    }

    @Override
    public long countFailed(MessageKind kind) {
        Statements statements = statements(kind);
        return count("count failed rows of " + statements.table, statements.countFailed);
    }

    @Override
    public long countPending(MessageKind kind) {
        Statements statements = statements(kind);
        return count("count pending rows of " + statements.table, statements.countPending);
    }

    private long count(String what, String sql) {
        return query(what, sql, statement -> {}, resultSet -> {
            resultSet.next();
            return resultSet.getLong(1);
        });
    }

    @Override
    public Optional<Instant> oldestPending(MessageKind kind) {
        Statements statements = statements(kind);
        return query(
                "read the oldest pending row of " + statements.table,
                statements.oldestPending,
                statement -> {},
                resultSet -> resultSet.next() ? Optional.ofNullable(getInstant(resultSet, 1)) : Optional.empty());
    }

    @Override
    public List<StoredMessage> browse(MessageKind kind, MessageStatus status, String topic, int offset, int limit) {
        Statements statements = statements(kind);
        StringBuilder sql = new StringBuilder("SELECT ")
                .append(selectColumns(statements.received))
                .append(" FROM ")
                .append(statements.table)
                .append(" WHERE 1 = 1");
        if (status != null) {
            // a literal, not a parameter: a partial index of one status (FAILED on PostgreSQL) then serves the query
            // in every plan, also a generic one of a statement prepared on the server; the name is an enum constant's
            sql.append(" AND status = '").append(status.name()).append('\'');
        }
        if (topic != null) {
            sql.append(" AND topic = ?");
        }
        sql.append(" ORDER BY added_at DESC LIMIT ? OFFSET ?");
        return query(
                "browse " + statements.table,
                sql.toString(),
                statement -> {
                    int i = 1;
                    if (topic != null) {
                        statement.setString(i++, topic);
                    }
                    statement.setInt(i++, limit);
                    statement.setInt(i, offset);
                },
                resultSet -> {
                    List<StoredMessage> rows = new ArrayList<>();
                    while (resultSet.next()) {
                        rows.add(map(resultSet));
                    }
                    return rows;
                });
    }

    @Override
    public boolean requeue(MessageKind kind, String id, String group, Instant now) {
        Statements statements = statements(kind);
        return inTransaction("requeue message " + id + " in " + statements.table, connection -> {
            try (PreparedStatement statement = connection.prepareStatement(statements.requeue)) {
                setInstant(statement, 1, now);
                bindKey(statement, 2, statements, id, group);
                return statement.executeUpdate() == 1;
            }
        });
    }

    @Override
    public boolean delete(MessageKind kind, String id, String group) {
        Statements statements = statements(kind);
        return inTransaction("delete message " + id + " from " + statements.table, connection -> {
            try (PreparedStatement statement = connection.prepareStatement(statements.delete)) {
                bindKey(statement, 1, statements, id, group);
                return statement.executeUpdate() == 1;
            }
        });
    }

    private static void bindKey(PreparedStatement statement, int index, Statements statements, String id, String group)
            throws SQLException {
        statement.setString(index, id);
        if (statements.received) {
            statement.setString(index + 1, Objects.requireNonNull(group, "a received message is keyed by its group"));
        }
    }

    /** Binds a statement's parameters. */
    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement statement) throws SQLException;
    }

    /** Reads a result set. */
    @FunctionalInterface
    private interface Reader<T> {
        T read(ResultSet resultSet) throws SQLException;
    }

    private <T> T query(String what, String sql, Binder binder, Reader<T> reader) {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement(sql)) {
            binder.bind(statement);
            try (ResultSet resultSet = statement.executeQuery()) {
                return reader.read(resultSet);
            }
        } catch (SQLException e) {
            throw new OutboxException("Cannot " + what + ": " + e.getMessage(), e);
        }
    }

    private List<MessageOutcome> write(Connection connection, MessageKind kind, List<MessageOutcome> outcomes)
            throws SQLException {
        Statements statements = statements(kind);
        return outcomes.size() == 1
                ? writeEach(connection, kind, outcomes)
                : writeAll(connection, statements.table, statements.received, outcomes);
    }

    /**
     * Writes several outcomes of {@code table}, each only if its row still has the version the outcome expects,
     * and returns those written. This default sends one JDBC batch of single-row updates; a dialect with a
     * set-based update overrides it, saving the database a statement per row.
     */
    protected List<MessageOutcome> writeAll(
            Connection connection, String table, boolean received, List<MessageOutcome> outcomes) throws SQLException {
        return writeEach(connection, received ? MessageKind.RECEIVED : MessageKind.PUBLISHED, outcomes);
    }

    private List<MessageOutcome> writeEach(Connection connection, MessageKind kind, List<MessageOutcome> outcomes)
            throws SQLException {
        Statements statements = statements(kind);
        try (PreparedStatement statement = connection.prepareStatement(statements.complete)) {
            for (MessageOutcome outcome : outcomes) {
                int i = 1;
                statement.setString(i++, outcome.status().name());
                statement.setInt(i++, outcome.attempts());
                setInstant(statement, i++, outcome.nextAttemptAt());
                setInstant(statement, i++, outcome.expiresAt());
                statement.setString(i++, truncate(outcome.lastError()));
                statement.setString(i++, outcome.id());
                if (statements.received) {
                    statement.setString(i++, outcome.group());
                }
                statement.setInt(i, outcome.expectedVersion());
                statement.addBatch();
            }
            int[] counts = statement.executeBatch();
            List<MessageOutcome> written = new ArrayList<>(outcomes.size());
            for (int i = 0; i < counts.length; i++) {
                // SUCCESS_NO_INFO (-2) is what some drivers report for a rewritten batch: read the rows back then
                if (counts[i] > 0
                        || (counts[i] == PreparedStatement.SUCCESS_NO_INFO
                                && isWritten(connection, kind, outcomes.get(i)))) {
                    written.add(outcomes.get(i));
                }
            }
            return written;
        }
    }

    private boolean isWritten(Connection connection, MessageKind kind, MessageOutcome outcome) throws SQLException {
        Statements statements = statements(kind);
        try (PreparedStatement statement = connection.prepareStatement(statements.find)) {
            statement.setString(1, outcome.id());
            if (statements.received) {
                statement.setString(2, outcome.group());
            }
            try (ResultSet resultSet = statement.executeQuery()) {
                return resultSet.next() && resultSet.getInt(13) == outcome.expectedVersion() + 1;
            }
        }
    }

    /** Binds {@code message}'s columns from parameter {@code index} on; returns the index after them. */
    private int bindInsert(PreparedStatement statement, int index, StoredMessage message, boolean received)
            throws SQLException {
        int i = index;
        statement.setString(i++, message.id());
        if (received) {
            statement.setString(i++, message.group());
        }
        statement.setString(i++, message.topic());
        if (message.key() == null) {
            statement.setNull(i++, Types.VARCHAR);
        } else {
            statement.setString(i++, message.key());
        }
        statement.setString(i++, HeaderCodec.encode(message.headers()));
        statement.setString(i++, message.payload());
        statement.setString(i++, message.status().name());
        statement.setInt(i++, message.attempts());
        setInstant(statement, i++, message.addedAt());
        setInstant(statement, i++, message.nextAttemptAt());
        setInstant(statement, i++, message.expiresAt());
        statement.setString(i++, truncate(message.lastError()));
        statement.setInt(i++, message.version());
        return i;
    }

    /**
     * The select list {@link #map} reads, in its order. The published table has no group column: it is
     * selected as {@code NULL}.
     */
    protected static String selectColumns(boolean received) {
        return received ? COLUMNS : COLUMNS.replace("group_name", "NULL AS group_name");
    }

    /** Reads a row selected with {@link #selectColumns(boolean)}. */
    protected final StoredMessage map(ResultSet resultSet) throws SQLException {
        return new StoredMessage(
                resultSet.getString(1),
                resultSet.getString(2),
                resultSet.getString(3),
                resultSet.getString(4),
                HeaderCodec.decode(resultSet.getString(5)),
                resultSet.getString(6),
                MessageStatus.valueOf(resultSet.getString(7)),
                resultSet.getInt(8),
                getInstant(resultSet, 9),
                getInstant(resultSet, 10),
                getInstant(resultSet, 11),
                resultSet.getString(12),
                resultSet.getInt(13));
    }

    private Statements statements(MessageKind kind) {
        return kind == MessageKind.PUBLISHED ? published : received;
    }

    /** The stored form of a last error: at most the column's length. */
    protected static String truncate(String error) {
        if (error == null || error.length() <= MAX_ERROR_LENGTH) {
            return error;
        }
        int end =
                Character.isHighSurrogate(error.charAt(MAX_ERROR_LENGTH - 1)) ? MAX_ERROR_LENGTH - 1 : MAX_ERROR_LENGTH;
        return error.substring(0, end);
    }

    /** Work on one connection inside one transaction. */
    @FunctionalInterface
    protected interface TransactionalWork<T> {
        T run(Connection connection) throws SQLException;
    }

    /** Runs {@code work} in a transaction of its own, committed on return and rolled back on failure. */
    protected final <T> T inTransaction(String what, TransactionalWork<T> work) {
        try (Connection connection = dataSource.getConnection()) {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(connection, e);
                throw e;
            } finally {
                restoreAutoCommit(connection, autoCommit);
            }
        } catch (SQLException e) {
            throw new OutboxException("Cannot " + what + ": " + e.getMessage(), e);
        }
    }

    private static void rollbackQuietly(Connection connection, Exception cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackError) {
            cause.addSuppressed(rollbackError);
        }
    }

    private static void restoreAutoCommit(Connection connection, boolean autoCommit) {
        try {
            connection.setAutoCommit(autoCommit);
        } catch (SQLException ignored) {
            // the connection is broken; the pool discards it
        }
    }

    /** The statements of one table, formatted once. */
    private static final class Statements {
        final String table;
        final boolean received;
        final String insert;
        final String complete;
        final String find;
        final String countByStatus;
        final String countFailed;
        final String countPending;
        final String oldestPending;
        final String requeue;
        final String delete;

        /** An INSERT of {@code rows} rows, all columns bound. */
        String insertRows(int rows) {
            String oneRow =
                    received ? "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            return "INSERT INTO " + table + " (" + (received ? COLUMNS : COLUMNS.replace("group_name, ", ""))
                    + ") VALUES " + String.join(", ", Collections.nCopies(rows, oneRow));
        }

        Statements(String table, boolean received) {
            this.table = table;
            this.received = received;
            String key = received ? "id = ? AND group_name = ?" : "id = ?";
            this.insert = insertRows(1);
            this.complete = "UPDATE " + table
                    + " SET status = ?, attempts = ?, next_attempt_at = ?, expires_at = ?, last_error = ?,"
                    + " version = version + 1 WHERE " + key + " AND version = ?";
            this.find = "SELECT " + selectColumns(received) + " FROM " + table + " WHERE " + key;
            this.countByStatus = "SELECT status, count(*) FROM " + table + " GROUP BY status";
            this.countFailed = "SELECT count(*) FROM " + table + " WHERE status = 'FAILED'";
            // both read only rows with a next attempt time: the polling index holds exactly those
            this.countPending = "SELECT count(*) FROM " + table + " WHERE next_attempt_at IS NOT NULL";
            this.oldestPending = "SELECT min(added_at) FROM " + table + " WHERE next_attempt_at IS NOT NULL";
            this.requeue = "UPDATE " + table + " SET status = 'RETRYING', attempts = 0, next_attempt_at = ?,"
                    + " expires_at = NULL, version = version + 1 WHERE " + key + " AND status = 'FAILED'";
            this.delete = "DELETE FROM " + table + " WHERE " + key;
        }
    }
}

package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.FastRecovery;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §5.1 and §5.3 through a database outage as the application sees it: every connection of its pool
 * is terminated by the server ({@code pg_terminate_backend}) three times while 300 messages are published
 * and consumed in one JVM. Publishes whose transaction failed are the caller's to retry; every message whose
 * transaction committed must be handled, and its effect applied exactly once.
 *
 * <p>Only this test's connections are terminated: its pool sets a unique {@code ApplicationName}.
 */
class DatabaseConnectionsTerminatedIT {
    private static final String TOPIC = "stock.reserved";
    private static final String GROUP = "inventory";
    private static final int MESSAGES = Scale.of(300);
    private static final int TERMINATIONS = Scale.of(3);

    /** The payload. */
    public record StockReserved(int sequence) {}

    private final String applicationName = "outbox4j-reliability-terminated-" + Long.toHexString(System.nanoTime());
    private HikariDataSource pool;
    private TestTables testTables;
    private StorageOptions tables;
    private String effects;
    private Outbox outbox;
    private final ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService terminator = Executors.newSingleThreadExecutor();

    @BeforeEach
    void createTables() throws SQLException {
        DataSource admin = TestServices.postgres();
        testTables = TestTables.create(admin);
        tables = testTables.options();
        effects = "effects_" + tables.publishedTable().substring(StorageOptions.DEFAULT_PUBLISHED_TABLE.length() + 1);
        // no unique constraint: an effect applied twice must show as a second row
        execute(admin, "CREATE TABLE " + effects + " (message_id varchar(128) NOT NULL, sequence integer NOT NULL)");

        HikariConfig config = new HikariConfig();
        config.setPoolName("terminated");
        config.setJdbcUrl(TestServices.postgresUrl());
        config.addDataSourceProperty("ApplicationName", applicationName);
        config.setMaximumPoolSize(10);
        config.setMinimumIdle(10);
        config.setConnectionTimeout(5_000);
        pool = new HikariDataSource(config);
    }

    @AfterEach
    void dropTables() throws SQLException {
        load.shutdownNow();
        terminator.shutdownNow();
        if (outbox != null) {
            outbox.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (testTables != null) {
            execute(TestServices.postgres(), "DROP TABLE IF EXISTS " + effects);
            testTables.close();
        }
    }

    @Test
    void everyCommittedMessageIsAppliedOnceThoughTheConnectionsAreTerminated() throws Exception {
        outbox = Outbox.builder()
                .dataSource(pool)
                .storageOptions(tables)
                .transport(new InMemoryTransport())
                .retryPolicy(FastRecovery.policy(Duration.ofSeconds(1), 100))
                // a claim whose outcome write died with its connection keeps its lease: 10 s, not the default 2 min
                .settings(FastRecovery.settings())
                .build();
        outbox.subscribe(TOPIC, GROUP, StockReserved.class, (StockReserved payload, ReceivedMessage message) -> {
            try (PreparedStatement insert = message.connection()
                    .prepareStatement("INSERT INTO " + effects + " (message_id, sequence) VALUES (?, ?)")) {
                insert.setString(1, message.id());
                insert.setInt(2, payload.sequence());
                insert.executeUpdate();
            }
            return null;
        });
        outbox.start();

        Set<String> committed = ConcurrentHashMap.newKeySet();
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger sequence = new AtomicInteger();
        AtomicLong terminated = new AtomicLong();
        Set<Future<Long>> rounds = ConcurrentHashMap.newKeySet();
        ScheduledFuture<?> publishing = load.scheduleWithFixedDelay(
                () -> {
                    int number = sequence.incrementAndGet();
                    if (number > MESSAGES) {
                        throw new IllegalStateException("done"); // ends the schedule
                    }
                    if (number % (MESSAGES / (TERMINATIONS + 1)) == 0 && rounds.size() < TERMINATIONS) {
                        rounds.add(terminator.submit(this::terminateConnections));
                    }
                    try {
                        committed.add(outbox.inTransaction(
                                (connection, publisher) -> publisher.publish(TOPIC, new StockReserved(number))));
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                    }
                },
                0,
                10,
                TimeUnit.MILLISECONDS);
        await().atMost(Duration.ofSeconds(60).multipliedBy(Scale.factor())).until(publishing::isDone);
        for (Future<Long> round : rounds) {
            long killed = round.get(30, TimeUnit.SECONDS);
            assertThat(killed).as("connections terminated in one round").isPositive();
            terminated.addAndGet(killed);
        }

        Effects applied = new Effects(TestServices.postgres(), effects);
        applied.awaitSettled(tables, committed, Duration.ofMinutes(2).multipliedBy(Scale.factor()));

        long lost = applied.lost(committed);
        long appliedTwice = applied.appliedTwice();
        System.out.printf(
                "[db-connections-terminated] committed %d, publish failures %d, connections terminated %d, lost %d, applied twice %d%n",
                committed.size(), failures.get(), terminated.get(), lost, appliedTwice);

        assertThat(rounds).hasSize(TERMINATIONS);
        assertThat(committed.size() + failures.get()).isEqualTo(MESSAGES);
        assertThat(lost).as("committed messages never applied").isZero();
        assertThat(appliedTwice).as("messages whose effect was applied twice").isZero();
        assertThat(applied.rows(tables.receivedTable(), "FAILED"))
                .as("received rows FAILED")
                .isZero();
    }

    /** Terminates every backend of this test's pool; returns how many. */
    private long terminateConnections() throws SQLException {
        return count("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity"
                + " WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = '"
                + applicationName + "') terminated WHERE done");
    }

    private static long count(String sql) throws SQLException {
        try (Connection connection = TestServices.postgres().getConnection();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private static void execute(DataSource dataSource, String sql) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement()) {
            connection.setAutoCommit(true);
            statement.execute(sql);
        }
    }
}

package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §5.1 and §5.2 with a publishing process killed by SIGKILL at random moments: every committed
 * order is delivered at least once (no loss), no order whose transaction did not commit is delivered (no
 * phantom). Duplicates are allowed (at-least-once) and reported.
 *
 * <p>The child ({@link PublisherProcess}) commits a stream of orders and sends them through a broker that
 * answers after 20 ms, so each kill leaves some committed rows unsent; only the next incarnation's retry
 * processor can send those (they are due one first-delay after they were added). The test checks that the
 * kills did strand such rows: without them it would prove nothing. Without a retry processor they would be
 * lost.
 */
class PublisherCrashIT {
    private static final int KILLS = Scale.of(5);
    private static final int LAST_RUN_TRANSACTIONS = Scale.of(200);
    private static final long ORDER_IDS_PER_RUN = 1_000_000L;

    private final Random random = new Random();
    private final ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
    private DataSource dataSource;
    private TestTables testTables;
    private StorageOptions tables;
    private String orders;
    private String deliveries;

    @BeforeEach
    void createTables() throws SQLException {
        dataSource = TestServices.postgres();
        testTables = TestTables.create(dataSource);
        tables = testTables.options();
        String suffix = tables.publishedTable().substring(StorageOptions.DEFAULT_PUBLISHED_TABLE.length() + 1);
        orders = "orders_" + suffix;
        deliveries = "deliveries_" + suffix;
        // no unique constraint on deliveries: a duplicate delivery must show as a second row
        execute("CREATE TABLE " + orders + " (order_id bigint PRIMARY KEY)");
        execute("CREATE TABLE " + deliveries + " (message_id varchar(128) NOT NULL, order_id bigint NOT NULL)");
    }

    @AfterEach
    void dropTables() throws SQLException {
        killer.shutdownNow();
        if (testTables != null) {
            execute("DROP TABLE IF EXISTS " + orders);
            execute("DROP TABLE IF EXISTS " + deliveries);
            testTables.close();
        }
    }

    @Test
    void killedPublisherLosesNothingAndSendsNoPhantom() throws Exception {
        String url = TestServices.postgresUrl();
        AtomicInteger rolledBack = new AtomicInteger();
        long stranded = 0;
        for (int run = 0; run < KILLS; run++) {
            try (PublisherProcess publisher = PublisherProcess.start(
                    url, tables, orders, deliveries, (run + 1) * ORDER_IDS_PER_RUN, 0, rolledBack)) {
                // a random moment 1-3 s into the child's load
                killer.schedule(
                                () -> {
                                    publisher.kill();
                                    return null;
                                },
                                1_000 + random.nextInt(2_000),
                                TimeUnit.MILLISECONDS)
                        .get(30, TimeUnit.SECONDS);
            }
            long left = committedButNotDelivered();
            System.out.printf("[crash] kill %d: %d committed orders not delivered yet%n", run + 1, left);
            stranded += left;
        }

        try (PublisherProcess publisher = PublisherProcess.start(
                url, tables, orders, deliveries, (KILLS + 1) * ORDER_IDS_PER_RUN, LAST_RUN_TRANSACTIONS, rolledBack)) {
            publisher.awaitLine("DONE", Duration.ofSeconds(60).multipliedBy(Scale.factor()));
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(250))
                    .untilAsserted(() -> {
                        assertThat(count("SELECT count(*) FROM " + tables.publishedTable()
                                        + " WHERE status IN ('PENDING', 'RETRYING')"))
                                .as("rows still to send")
                                .isZero();
                        assertThat(committedButNotDelivered()).as("lost").isZero();
                    });
        }

        long committed = count("SELECT count(*) FROM " + orders);
        long delivered = count("SELECT count(*) FROM " + deliveries);
        long lost = committedButNotDelivered();
        long phantoms = count("SELECT count(DISTINCT d.order_id) FROM " + deliveries + " d WHERE NOT EXISTS"
                + " (SELECT 1 FROM " + orders + " o WHERE o.order_id = d.order_id)");
        long duplicates = count("SELECT count(*) FROM (SELECT order_id FROM " + deliveries
                + " GROUP BY order_id HAVING count(*) > 1) twice");
        long failed = count("SELECT count(*) FROM " + tables.publishedTable() + " WHERE status = 'FAILED'");
        long publishedRows = count("SELECT count(*) FROM " + tables.publishedTable());
        System.out.printf(
                "[crash] transactions committed %d, rolled back %d, kills %d, delivered %d, lost %d, phantoms %d,"
                        + " duplicates %d%n",
                committed, rolledBack.get(), KILLS, delivered, lost, phantoms, duplicates);
        System.out.printf(
                "[crash] committed orders not yet delivered right after the kills: %d; FAILED rows %d%n",
                stranded, failed);

        assertThat(lost).as("committed orders never delivered").isZero();
        assertThat(phantoms).as("deliveries of orders that never committed").isZero();
        assertThat(publishedRows).as("one outbox row per committed order").isEqualTo(committed);
        assertThat(failed).as("rows that exhausted their attempts").isZero();
        assertThat(rolledBack.get()).as("transactions rolled back on purpose").isPositive();
        assertThat(stranded)
                .as("the kills must catch committed orders in flight, or this run proved nothing about recovery")
                .isPositive();
    }

    private long committedButNotDelivered() throws SQLException {
        return count("SELECT count(*) FROM " + orders + " o WHERE NOT EXISTS (SELECT 1 FROM " + deliveries
                + " d WHERE d.order_id = o.order_id)");
    }

    private long count(String sql) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private void execute(String sql) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement()) {
            connection.setAutoCommit(true);
            statement.execute(sql);
        }
    }
}

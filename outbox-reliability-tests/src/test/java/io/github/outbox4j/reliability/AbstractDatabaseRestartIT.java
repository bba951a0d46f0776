package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.FastRecovery;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §5.1 and §5.3 through real database server restarts: the test's own server ({@link PrivateDatabase}) is
 * stopped and started again, alternately cleanly and as a crash, while one outbox publishes a message every few
 * milliseconds and consumes them from the real Kafka broker, its handler writing an effect row in the inbox
 * transaction. The outbox is not told anything: its pool, dispatcher, retry processors and Kafka consumers must
 * find their way back by themselves. Publishes refused during an outage are the caller's to retry; every message
 * whose transaction committed must be applied exactly once.
 *
 * <p>Extended once per database; {@value Scale#PROPERTY} multiplies the messages and the restarts.
 */
abstract class AbstractDatabaseRestartIT {
    private static final String GROUP = "inventory";
    private static final int MESSAGES = Scale.of(400);
    private static final int RESTARTS = Scale.of(2);
    private static final Duration OUTAGE = Duration.ofSeconds(2);

    /** The payload. */
    public record StockReserved(int sequence) {}

    /** Starts the database server the test restarts. */
    protected abstract PrivateDatabase launchDatabase() throws Exception;

    private PrivateDatabase database;
    private HikariDataSource pool;
    private HikariDataSource admin;
    private TestTables testTables;
    private String effects;
    private String topic;
    private Outbox outbox;
    private final ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
    private final ScheduledExecutorService restarter = Executors.newSingleThreadScheduledExecutor();

    @BeforeEach
    void startDatabase() throws Exception {
        database = launchDatabase();
        admin = pool(database.jdbcUrl(), "restart-admin", 2, Duration.ofSeconds(30));
        testTables = TestTables.create(admin);
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
        effects = "effects_" + suffix;
        topic = "stock.reserved." + suffix;
        Effects.createTable(admin, effects);
        // a short connection timeout: a publish during the outage fails in 1.5 s instead of waiting 30 s
        pool = pool(database.jdbcUrl(), "restart", 10, Duration.ofMillis(1500));
    }

    @AfterEach
    void stopDatabase() {
        load.shutdownNow();
        restarter.shutdownNow();
        if (outbox != null) {
            outbox.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (database != null) {
            database.close(); // the tables go with its data directory
        }
    }

    @Test
    void everyCommittedMessageIsAppliedOnceThroughServerRestarts() throws Exception {
        StorageOptions tables = testTables.options();
        outbox = Outbox.builder()
                .dataSource(pool)
                .storageOptions(tables)
                .transport(KafkaFixture.transport(TestServices.kafkaBootstrap()))
                .retryPolicy(FastRecovery.policy(Duration.ofSeconds(1), 1_000))
                // a claim whose outcome write died with the server keeps its lease: 10 s, not the default 2 min
                .settings(FastRecovery.settings())
                .build();
        outbox.subscribe(topic, GROUP, StockReserved.class, 2, (StockReserved payload, ReceivedMessage message) -> {
            Effects.apply(effects, message, payload.sequence());
            return null;
        });
        outbox.start();

        Set<String> committed = ConcurrentHashMap.newKeySet();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger sequence = new AtomicInteger();
        ScheduledFuture<?> publishing = load.scheduleWithFixedDelay(
                () -> {
                    int number = sequence.incrementAndGet();
                    try {
                        committed.add(outbox.inTransaction(
                                (connection, publisher) -> publisher.publish(topic, new StockReserved(number))));
                    } catch (RuntimeException e) {
                        refused.incrementAndGet();
                    }
                },
                0,
                5,
                TimeUnit.MILLISECONDS);

        int crashes = 0;
        for (int round = 1; round <= RESTARTS; round++) {
            int due = round * MESSAGES / (RESTARTS + 1);
            await().atMost(Duration.ofMinutes(2)).until(() -> committed.size() >= due);
            boolean crash = round % 2 == 0;
            database.stop(crash);
            crashes += crash ? 1 : 0;
            // the server comes back by itself after the outage; the outbox is told nothing
            restarter
                    .schedule(
                            () -> {
                                database.start();
                                return null;
                            },
                            OUTAGE.toMillis(),
                            TimeUnit.MILLISECONDS)
                    .get(2, TimeUnit.MINUTES);
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> committed.size() >= MESSAGES);
        publishing.cancel(false);
        load.shutdown();
        assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

        Effects applied = new Effects(admin, effects);
        applied.awaitSettled(tables, committed, Duration.ofMinutes(3).multipliedBy(Scale.factor()));

        long lost = applied.lost(committed);
        long appliedTwice = applied.appliedTwice();
        long inDoubtApplied = applied.distinct() - committed.size();
        System.out.printf(
                "[db-restart] %s: messages=%d, faults=%d server restarts (%d clean, %d crash; down %d s each),"
                        + " publishes refused during the outages=%d (of which committed after all and applied=%d),"
                        + " lost=%d, applied twice=%d%n",
                database.name(),
                committed.size(),
                RESTARTS,
                RESTARTS - crashes,
                crashes,
                OUTAGE.toSeconds(),
                refused.get(),
                inDoubtApplied,
                lost,
                appliedTwice);

        assertThat(lost).as("committed messages never applied").isZero();
        assertThat(appliedTwice).as("messages whose effect was applied twice").isZero();
        assertThat(refused.get())
                .as("the restarts must be felt by the publisher, or this run proved nothing")
                .isPositive();
        assertThat(applied.rows(tables.publishedTable(), "FAILED"))
                .as("published rows FAILED")
                .isZero();
        assertThat(applied.rows(tables.receivedTable(), "FAILED"))
                .as("received rows FAILED")
                .isZero();
    }

    private static HikariDataSource pool(String url, String name, int size, Duration connectionTimeout) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(connectionTimeout.toMillis());
        return new HikariDataSource(config);
    }
}

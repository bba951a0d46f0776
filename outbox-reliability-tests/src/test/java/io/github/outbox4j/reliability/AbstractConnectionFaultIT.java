package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxObserver;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.memory.InMemoryTransport;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.FastRecovery;
import io.github.outbox4j.testkit.TestServices;
import io.github.outbox4j.testkit.TestTables;
import java.sql.SQLException;
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
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §5.1 and §5.3 through a fault of the application's connection pool, injected three times while 300
 * messages are published and consumed in one JVM: what the fault is, and how the pool is set up, is the subclass's.
 * Publishes whose transaction failed are the caller's to retry; every message whose transaction committed must be
 * handled, and its effect applied exactly once.
 */
abstract class AbstractConnectionFaultIT {
    static final String TOPIC = "stock.reserved";
    private static final String GROUP = "inventory";
    private static final int MESSAGES = Scale.of(300);
    private static final int ROUNDS = Scale.of(3);

    /** The payload. */
    public record StockReserved(int sequence) {}

    /**
     * Unique to this test's pool, so that a fault aimed at its connections touches no other test's; within
     * PostgreSQL's 63 characters, beyond which it would be cut and no longer match.
     */
    protected final String applicationName =
            "outbox4j-" + getClass().getSimpleName() + "-" + Long.toHexString(System.nanoTime());

    protected HikariDataSource pool;
    private TestTables testTables;
    private StorageOptions tables;
    private String effects;
    private Outbox outbox;
    private final ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService faults = Executors.newSingleThreadExecutor();

    @BeforeEach
    void createTables() throws SQLException {
        DataSource admin = TestServices.postgres();
        testTables = TestTables.create(admin);
        tables = testTables.options();
        effects = "effects_" + tables.publishedTable().substring(StorageOptions.DEFAULT_PUBLISHED_TABLE.length() + 1);
        Effects.createTable(admin, effects);

        HikariConfig config = new HikariConfig();
        config.setPoolName(getClass().getSimpleName());
        config.setJdbcUrl(TestServices.postgresUrl());
        config.addDataSourceProperty("ApplicationName", applicationName);
        configurePool(config);
        pool = new HikariDataSource(config);
    }

    /** Sets the pool's size and timeouts for the fault. */
    protected abstract void configurePool(HikariConfig config);

    /**
     * Injects the fault once, returning when it is over; returns how many of the pool's connections it struck,
     * which must be at least one.
     */
    protected abstract long injectFault() throws Exception;

    /** The label of the line the test prints, e.g. {@code db-connections-terminated}. */
    protected abstract String label();

    /** What the count {@link #injectFault()} returns is, for that line, e.g. {@code connections terminated}. */
    protected abstract String faultCount();

    /**
     * Publishes one message in a transaction of its own and returns its id: by default through {@link
     * Outbox#inTransaction}, on the outbox's own pool.
     */
    protected String publish(Outbox outbox, StockReserved message) throws SQLException {
        return outbox.inTransaction((connection, publisher) -> publisher.publish(TOPIC, message));
    }

    /** Checks, once every message is settled, that the faults reached the engine as the subclass means them to. */
    protected void checkTheEngineWasStruck(EngineCounts counts, int committed) {}

    /** What the engine reported through its {@link OutboxObserver} during the test. */
    protected static final class EngineCounts implements OutboxObserver {
        final LongAdder sent = new LongAdder();
        final LongAdder duplicates = new LongAdder();
        final LongAdder handlerFailures = new LongAdder();

        @Override
        public void sent(String topic, Duration sinceAdded) {
            sent.increment();
        }

        @Override
        public void duplicate(String topic, String group) {
            duplicates.increment();
        }

        @Override
        public void handlerFailed(String topic, String group, Throwable error) {
            handlerFailures.increment();
        }
    }

    @AfterEach
    void dropTables() throws SQLException {
        load.shutdownNow();
        faults.shutdownNow();
        if (outbox != null) {
            outbox.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (testTables != null) {
            Sql.execute(TestServices.postgres(), "DROP TABLE IF EXISTS " + effects);
            testTables.close();
        }
    }

    @Test
    void everyCommittedMessageIsAppliedOnceThroughTheFaults() throws Exception {
        EngineCounts counts = new EngineCounts();
        outbox = Outbox.builder()
                .dataSource(pool)
                .storageOptions(tables)
                .transport(new InMemoryTransport())
                .retryPolicy(FastRecovery.policy(Duration.ofSeconds(1), 100))
                // a claim whose outcome write died with its connection keeps its lease: 10 s, not the default 2 min
                .settings(FastRecovery.settings())
                .observer(counts)
                .build();
        outbox.subscribe(TOPIC, GROUP, StockReserved.class, (StockReserved payload, ReceivedMessage message) -> {
            Effects.apply(effects, message, payload.sequence());
            return null;
        });
        outbox.start();

        Set<String> committed = ConcurrentHashMap.newKeySet();
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger sequence = new AtomicInteger();
        AtomicLong struck = new AtomicLong();
        Set<Future<Long>> rounds = ConcurrentHashMap.newKeySet();
        ScheduledFuture<?> publishing = load.scheduleWithFixedDelay(
                () -> {
                    int number = sequence.incrementAndGet();
                    if (number > MESSAGES) {
                        throw new IllegalStateException("done"); // ends the schedule
                    }
                    if (number % (MESSAGES / (ROUNDS + 1)) == 0 && rounds.size() < ROUNDS) {
                        rounds.add(faults.submit(this::injectFault));
                    }
                    try {
                        committed.add(publish(outbox, new StockReserved(number)));
                    } catch (RuntimeException | SQLException e) {
                        failures.incrementAndGet();
                    }
                },
                0,
                10,
                TimeUnit.MILLISECONDS);
        await().atMost(Duration.ofSeconds(60).multipliedBy(Scale.factor())).until(publishing::isDone);
        for (Future<Long> round : rounds) {
            long count = round.get(30, TimeUnit.SECONDS);
            assertThat(count).as(faultCount() + " in one round").isPositive();
            struck.addAndGet(count);
        }

        Effects applied = new Effects(TestServices.postgres(), effects);
        applied.awaitSettled(tables, committed, Duration.ofMinutes(2).multipliedBy(Scale.factor()));

        long lost = applied.lost(committed);
        long appliedTwice = applied.appliedTwice();
        System.out.printf(
                "[%s] committed %d, publish failures %d, %s %d, sends %d, duplicate deliveries skipped %d,"
                        + " handler attempts failed %d, lost %d, applied twice %d%n",
                label(),
                committed.size(),
                failures.get(),
                faultCount(),
                struck.get(),
                counts.sent.sum(),
                counts.duplicates.sum(),
                counts.handlerFailures.sum(),
                lost,
                appliedTwice);

        assertThat(rounds).hasSize(ROUNDS);
        assertThat(committed.size() + failures.get()).isEqualTo(MESSAGES);
        assertThat(lost).as("committed messages never applied").isZero();
        assertThat(appliedTwice).as("messages whose effect was applied twice").isZero();
        assertThat(applied.rows(tables.receivedTable(), "FAILED"))
                .as("received rows FAILED")
                .isZero();
        checkTheEngineWasStruck(counts, committed.size());
    }
}

package io.github.outbox4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.internal.RetryProcessor;
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
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §5.1 and §5.3 through real database server restarts and freezes: the test's own server ({@link
 * PrivateDatabase}) is stopped and started again, alternately cleanly and as a crash, or frozen for a while, while
 * one outbox publishes a message every few milliseconds and consumes them from the real Kafka broker, its handler
 * writing an effect row in the inbox transaction. The outbox is not told anything: its pool, dispatcher, retry
 * processors and Kafka consumers must find their way back by themselves. Publishes refused during an outage are the
 * caller's to retry; every message whose transaction committed must be applied exactly once.
 *
 * <p>Extended once per database; {@value Scale#PROPERTY} multiplies the messages, the restarts and the freezes.
 */
abstract class AbstractDatabaseRestartIT {
    private static final String GROUP = "inventory";
    private static final int MESSAGES = Scale.of(400);
    private static final int RESTARTS = Scale.of(2);
    private static final Duration OUTAGE = Duration.ofSeconds(2);
    private static final int FREEZES = Scale.of(1);
    /** Longer than the lease of {@link FastRecovery#settings()}, 10 s. */
    private static final Duration FREEZE = Duration.ofSeconds(15);

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
        admin = database.pool("restart-admin", 2, Duration.ofSeconds(30));
        testTables = TestTables.create(admin);
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt() & 0x7fffffff);
        effects = "effects_" + suffix;
        topic = "stock.reserved." + suffix;
        Effects.createTable(admin, effects);
        // a short connection timeout: a publish during the outage fails in 1.5 s instead of waiting 30 s
        pool = database.pool("restart", 10, Duration.ofMillis(1500));
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
        Outcome outcome;
        long outagesTold;
        long recoveriesTold;
        try (LogLines retryLog = LogLines.of(RetryProcessor.class)) {
            outcome = publishAndConsumeThrough(RESTARTS, round -> {
                database.stop(round % 2 == 0);
                // the server comes back by itself after the outage; the outbox is told nothing
                after(OUTAGE, database::start);
            });
            outagesTold = retryLog.count(Level.WARN, " failed, trying again in ");
            recoveriesTold = retryLog.count(Level.INFO, " works again, after ");
        }
        int crashes = RESTARTS / 2;
        System.out.printf(
                "[db-restart] %s: messages=%d, faults=%d server restarts (%d clean, %d crash; down %d s each), %s;"
                        + " told by the retry processors' log: %d outages, %d recoveries%n",
                database.name(),
                outcome.committed(),
                RESTARTS,
                RESTARTS - crashes,
                crashes,
                OUTAGE.toSeconds(),
                outcome.figures("outages"),
                outagesTold,
                recoveriesTold);

        assertAppliedOnce(outcome);
        assertThat(outcome.refused())
                .as("the restarts must be felt by the publisher, or this run proved nothing")
                .isPositive();
        assertThat(outagesTold)
                .as("the retry processors' polls must have failed, or this check proved nothing")
                .isPositive();
        assertThat(recoveriesTold)
                .as("each retry processor tells when its polls fail, and once again when they work again")
                .isEqualTo(outagesTold);
    }

    /**
     * The server frozen (SIGSTOP) for longer than a claim's lease: every statement under way, the publisher's, the
     * recorders', the retry processors' and the inbox's, waits with its connection open, and goes on when the server
     * does; a claim made just before the freeze may see its lease run out before its outcome is written.
     */
    @Test
    void everyCommittedMessageIsAppliedOnceThroughAFrozenServer() throws Exception {
        Outcome outcome = publishAndConsumeThrough(FREEZES, round -> {
            database.freeze();
            try {
                // the server goes on by itself after the freeze; the outbox is told nothing
                after(FREEZE, database::thaw);
            } finally {
                database.thaw(); // also when the test failed meanwhile: the server must not stay frozen
            }
        });
        System.out.printf(
                "[db-frozen] %s: messages=%d, faults=%d server freezes (%d s each), longest publish=%d ms, %s%n",
                database.name(),
                outcome.committed(),
                FREEZES,
                FREEZE.toSeconds(),
                outcome.longestPublish().toMillis(),
                outcome.figures("freezes"));

        assertAppliedOnce(outcome);
        assertThat(outcome.longestPublish().compareTo(FREEZE.dividedBy(2)) >= 0 || outcome.refused() > 0)
                .as("the freezes must be felt by the publisher (a publish waiting for the server, or refused by the"
                        + " pool), or this run proved nothing")
                .isTrue();
    }

    /** One fault of a run, the {@code round}th: begins it, and ends it or has it end. */
    @FunctionalInterface
    private interface Fault {
        void inject(int round) throws Exception;
    }

    /** A step of a fault. */
    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    /** What a run committed, and how its messages were applied. */
    private record Outcome(
            int committed,
            int refused,
            Duration longestPublish,
            long inDoubtApplied,
            long lost,
            long appliedTwice,
            long failedPublished,
            long failedReceived) {

        /** What every run reports after its faults: the publishes they refused, and how the messages were applied. */
        String figures(String faults) {
            return String.format(
                    "publishes refused during the %s=%d (of which committed after all and applied=%d), lost=%d,"
                            + " applied twice=%d",
                    faults, refused, inDoubtApplied, lost, appliedTwice);
        }
    }

    /**
     * One outbox publishes a message every 5 ms and consumes them from the real Kafka broker, while {@code fault}
     * strikes {@code rounds} times, evenly over the messages; then waits until every committed message settled.
     */
    private Outcome publishAndConsumeThrough(int rounds, Fault fault) throws Exception {
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
        AtomicLong longestPublishNanos = new AtomicLong();
        ScheduledFuture<?> publishing = load.scheduleWithFixedDelay(
                () -> {
                    int number = sequence.incrementAndGet();
                    long start = System.nanoTime();
                    try {
                        committed.add(outbox.inTransaction(
                                (connection, publisher) -> publisher.publish(topic, new StockReserved(number))));
                    } catch (RuntimeException e) {
                        refused.incrementAndGet();
                    }
                    longestPublishNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                },
                0,
                5,
                TimeUnit.MILLISECONDS);

        for (int round = 1; round <= rounds; round++) {
            int due = round * MESSAGES / (rounds + 1);
            await().atMost(Duration.ofMinutes(2)).until(() -> committed.size() >= due);
            fault.inject(round);
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> committed.size() >= MESSAGES);
        publishing.cancel(false);
        load.shutdown();
        assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

        Effects applied = new Effects(admin, effects);
        applied.awaitSettled(tables, committed, Duration.ofMinutes(3).multipliedBy(Scale.factor()));
        return new Outcome(
                committed.size(),
                refused.get(),
                Duration.ofNanos(longestPublishNanos.get()),
                applied.distinct() - committed.size(),
                applied.lost(committed),
                applied.appliedTwice(),
                applied.rows(tables.publishedTable(), "FAILED"),
                applied.rows(tables.receivedTable(), "FAILED"));
    }

    /** Runs {@code step} after {@code delay} on another thread, as the server coming back by itself, and waits. */
    private void after(Duration delay, Step step) throws Exception {
        restarter
                .schedule(
                        () -> {
                            step.run();
                            return null;
                        },
                        delay.toMillis(),
                        TimeUnit.MILLISECONDS)
                .get(2, TimeUnit.MINUTES);
    }

    private static void assertAppliedOnce(Outcome outcome) {
        assertThat(outcome.lost()).as("committed messages never applied").isZero();
        assertThat(outcome.appliedTwice())
                .as("messages whose effect was applied twice")
                .isZero();
        assertThat(outcome.failedPublished()).as("published rows FAILED").isZero();
        assertThat(outcome.failedReceived()).as("received rows FAILED").isZero();
    }
}

package io.github.outbox4j.testkit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.OutboxSettings;
import io.github.outbox4j.retry.RetryPolicy;
import io.github.outbox4j.spi.OutboxTransport;
import io.github.outbox4j.spi.StorageOptions;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/**
 * A consumer in a JVM of its own, so that a test can kill it with SIGKILL at any point. The handler writes an
 * effect row {@code (message_id, group_name)} in the inbox transaction; then, as {@link Handling} says, it
 * either holds the transaction open forever (the test kills it in the middle of a handler) or returns, so that
 * the process consumes a stream of messages until the test kills it at a random moment.
 *
 * <p>Arguments: JDBC URL, published table, received table, effects table, topic, group, the name of a
 * {@code Supplier<OutboxTransport>} class with a no-argument constructor, first delay in milliseconds, and
 * optionally the {@link Handling} (default {@code HOLD}).
 */
public final class ConsumerProcess implements AutoCloseable {
    /** What the handler does after writing its effect row. */
    public enum Handling {
        /** Says {@code HANDLING <id>} on standard output and waits forever: the transaction stays open. */
        HOLD,
        /**
         * Returns, so the effect commits with the inbox row. The process then retries after the given first delay
         * and then every second, polls every 200 ms and leases claims for 10 s, so that what a killed predecessor
         * left is taken up within seconds.
         */
        APPLY
    }

    private final ChildJvm jvm;

    private ConsumerProcess(ChildJvm jvm) {
        this.jvm = jvm;
    }

    /** Starts a process whose handler holds its transaction open, and waits until its consumer is subscribed. */
    public static ConsumerProcess start(
            String jdbcUrl,
            StorageOptions tables,
            String effectsTable,
            String topic,
            String group,
            Class<? extends Supplier<OutboxTransport>> transportFactory,
            Duration firstDelay,
            List<String> systemProperties)
            throws IOException, InterruptedException {
        return start(
                jdbcUrl,
                tables,
                effectsTable,
                topic,
                group,
                transportFactory,
                firstDelay,
                Handling.HOLD,
                systemProperties);
    }

    /** Starts the process and waits until its consumer is subscribed. */
    public static ConsumerProcess start(
            String jdbcUrl,
            StorageOptions tables,
            String effectsTable,
            String topic,
            String group,
            Class<? extends Supplier<OutboxTransport>> transportFactory,
            Duration firstDelay,
            Handling handling,
            List<String> systemProperties)
            throws IOException, InterruptedException {
        ConsumerProcess consumer = new ConsumerProcess(ChildJvm.start(
                "consumer-process",
                ConsumerProcess.class,
                systemProperties,
                List.of(
                        jdbcUrl,
                        tables.publishedTable(),
                        tables.receivedTable(),
                        effectsTable,
                        topic,
                        group,
                        transportFactory.getName(),
                        Long.toString(firstDelay.toMillis()),
                        handling.name())));
        consumer.awaitLine("READY", Duration.ofSeconds(60));
        return consumer;
    }

    /** Waits for a line of output starting with {@code prefix}; returns it. */
    public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        return jvm.awaitLine(prefix, timeout);
    }

    /** SIGKILL: no shutdown hook, no rollback by the process itself; the database aborts its transaction. */
    public void kill() throws InterruptedException {
        jvm.kill();
    }

    @Override
    public void close() throws InterruptedException {
        jvm.close();
    }

    public static void main(String[] args) throws Exception {
        String effects = args[3];
        Handling handling = args.length > 8 ? Handling.valueOf(args[8]) : Handling.HOLD;
        Duration firstDelay = Duration.ofMillis(Long.parseLong(args[7]));
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(args[0]);
        config.setMaximumPoolSize(4);
        @SuppressWarnings("unchecked")
        Supplier<OutboxTransport> factory = (Supplier<OutboxTransport>)
                Class.forName(args[6]).getDeclaredConstructor().newInstance();
        HikariDataSource dataSource = new HikariDataSource(config);
        Outbox outbox = Outbox.builder()
                .dataSource(dataSource)
                .storageOptions(StorageOptions.builder()
                        .publishedTable(args[1])
                        .receivedTable(args[2])
                        .build())
                .transport(factory.get())
                .retryPolicy(
                        handling == Handling.HOLD
                                ? RetryPolicy.builder().firstDelay(firstDelay).build()
                                : FastRecovery.policy(firstDelay, 1_000))
                .settings(handling == Handling.HOLD ? OutboxSettings.builder().build() : FastRecovery.settings())
                .build();
        CountDownLatch never = new CountDownLatch(1);
        outbox.subscribe(args[4], args[5], OutboxTransportContract.OrderPaid.class, (payload, message) -> {
            try (PreparedStatement insert = message.connection()
                    .prepareStatement("INSERT INTO " + effects + " (message_id, group_name) VALUES (?, ?)")) {
                insert.setString(1, message.id());
                insert.setString(2, message.group());
                insert.executeUpdate();
            }
            if (handling == Handling.HOLD) {
                System.out.println("HANDLING " + message.id());
                System.out.flush();
                never.await();
            }
            return null;
        });
        outbox.start();
        System.out.println("READY");
        System.out.flush();
        never.await();
    }
}

package io.github.outbox4j.reliability;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.outbox4j.Outbox;
import io.github.outbox4j.spi.StorageOptions;
import io.github.outbox4j.testkit.ChildJvm;
import io.github.outbox4j.testkit.FastRecovery;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A publishing application in a JVM of its own, so that {@link PublisherCrashIT} can kill it with SIGKILL at
 * any point: between a commit and its send, in the middle of a send, during an outcome write.
 *
 * <p>The child runs one transaction every few milliseconds: insert an order row, publish {@link
 * OrderPlaced} naming it. Every tenth transaction throws after publishing and is rolled back; the child says
 * {@code ROLLED_BACK <orderId>} for it. After the given number of transactions (0: never) it says {@code
 * DONE} and keeps running, so its retry processor can finish. Its transport is a {@link
 * DeliveriesTableTransport}.
 *
 * <p>Arguments: JDBC URL, published table, received table, orders table, deliveries table, first order id,
 * number of transactions.
 */
final class PublisherProcess implements AutoCloseable {
    static final String TOPIC = "order.placed";

    /** The payload: names the order, so the broker side can tell which order a delivery belongs to. */
    public record OrderPlaced(long orderId) {}

    private final ChildJvm jvm;

    private PublisherProcess(ChildJvm jvm) {
        this.jvm = jvm;
    }

    /**
     * Starts a child and waits until its outbox has started.
     *
     * @param rolledBack counts the child's {@code ROLLED_BACK} lines
     */
    static PublisherProcess start(
            String jdbcUrl,
            StorageOptions tables,
            String ordersTable,
            String deliveriesTable,
            long firstOrderId,
            int transactions,
            AtomicInteger rolledBack)
            throws IOException, InterruptedException {
        ChildJvm jvm = ChildJvm.start(
                "publisher-process",
                PublisherProcess.class,
                List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
                List.of(
                        jdbcUrl,
                        tables.publishedTable(),
                        tables.receivedTable(),
                        ordersTable,
                        deliveriesTable,
                        Long.toString(firstOrderId),
                        Integer.toString(transactions)),
                line -> {
                    if (line.startsWith("ROLLED_BACK ")) {
                        rolledBack.incrementAndGet();
                        return false; // one per tenth transaction: counted, not echoed
                    }
                    return true;
                });
        PublisherProcess publisher = new PublisherProcess(jvm);
        publisher.awaitLine("READY", Duration.ofSeconds(60));
        return publisher;
    }

    /** Waits for a line of output starting with {@code prefix}. */
    void awaitLine(String prefix, Duration timeout) throws InterruptedException {
        jvm.awaitLine(prefix, timeout);
    }

    /** SIGKILL: no shutdown hook runs, the database aborts the open transactions. */
    void kill() throws InterruptedException {
        jvm.kill();
    }

    @Override
    public void close() throws InterruptedException {
        jvm.close();
    }

    public static void main(String[] args) throws Exception {
        String jdbcUrl = args[0];
        String orders = args[3];
        long firstOrderId = Long.parseLong(args[5]);
        int transactions = Integer.parseInt(args[6]);

        HikariDataSource dataSource = pool(jdbcUrl, "publisher", 4);
        // the broker stand-in gets its own connections: a send never waits for the outbox's pool
        HikariDataSource broker = pool(jdbcUrl, "publisher-broker", 2);
        Outbox outbox = Outbox.builder()
                .dataSource(dataSource)
                .storageOptions(StorageOptions.builder()
                        .publishedTable(args[1])
                        .receivedTable(args[2])
                        .build())
                .transport(new DeliveriesTableTransport(broker, args[4], Duration.ofMillis(20)))
                // a row committed but not sent when the process dies is due again 1 s after it was added
                .retryPolicy(FastRecovery.policy(Duration.ofSeconds(1), 100))
                // a lease left by a killed process ends after 10 s rather than the default 2 min
                .settings(FastRecovery.settings())
                .build();
        outbox.start();
        System.out.println("READY");
        System.out.flush();

        AtomicLong next = new AtomicLong(firstOrderId);
        ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
        load.scheduleWithFixedDelay(
                () -> {
                    long orderId = next.getAndIncrement();
                    if (transactions > 0 && orderId - firstOrderId >= transactions) {
                        System.out.println("DONE");
                        System.out.flush();
                        load.shutdown();
                        return;
                    }
                    placeOrder(outbox, orders, orderId, (orderId - firstOrderId) % 10 == 9);
                },
                0,
                3,
                TimeUnit.MILLISECONDS);
        new CountDownLatch(1).await();
    }

    private static void placeOrder(Outbox outbox, String orders, long orderId, boolean fail) {
        try {
            outbox.inTransaction((connection, publisher) -> {
                try (PreparedStatement insert =
                        connection.prepareStatement("INSERT INTO " + orders + " (order_id) VALUES (?)")) {
                    insert.setLong(1, orderId);
                    insert.executeUpdate();
                }
                String messageId = publisher.publish(TOPIC, new OrderPlaced(orderId));
                if (fail) {
                    throw new BusinessRuleViolation("Business rule failed after publishing " + messageId);
                }
                return messageId;
            });
        } catch (BusinessRuleViolation e) {
            System.out.println("ROLLED_BACK " + orderId);
            System.out.flush();
        } catch (RuntimeException e) {
            System.out.println("ERROR " + orderId + " " + e);
            System.out.flush();
        }
    }

    /** Thrown by the business work on purpose: its transaction rolls back. */
    private static final class BusinessRuleViolation extends RuntimeException {
        BusinessRuleViolation(String message) {
            super(message);
        }
    }

    private static HikariDataSource pool(String jdbcUrl, String name, int size) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(jdbcUrl);
        config.setMaximumPoolSize(size);
        config.setConnectionTimeout(10_000);
        config.addDataSourceProperty("ApplicationName", "outbox4j-reliability-" + name);
        return new HikariDataSource(config);
    }
}

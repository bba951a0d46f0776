package io.github.outbox4j.examples.demo;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.core.env.SimpleCommandLinePropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * Runs the example: a PostgreSQL server and a Kafka broker of its own (or, with profile {@code real}, the machine's
 * PostgreSQL and Kafka; with profile {@code real-mysql-rabbitmq}, the machine's MySQL or MariaDB and RabbitMQ), then
 * the order, inventory, membership and warehouse services. {@code scripts/demo.sh} builds and starts it.
 *
 * <ul>
 *   <li>no argument: the services keep running for you to call (see what it prints); Ctrl-C stops everything.
 *   <li>{@code --load=N}: pays N orders, waits until the consumers have applied them, prints the counts and exits
 *       (status 1 when they do not match).
 *   <li>{@code --spring.profiles.active=real}: PostgreSQL on {@code 127.0.0.1:5432} (user postgres) and Kafka on
 *       {@code 127.0.0.1:9092}, or {@code --demo.postgres-url=jdbc:postgresql://...} and
 *       {@code --demo.kafka-bootstrap=host:port}.
 *   <li>{@code --spring.profiles.active=real-mysql-rabbitmq}: MySQL or MariaDB on {@code 127.0.0.1:3306} (user root,
 *       no password) and RabbitMQ on {@code 127.0.0.1:5672} (guest/guest), or {@code
 *       --demo.mysql-url=jdbc:mysql://...} and {@code --demo.rabbitmq-uri=amqp://user:password@host:port}.
 * </ul>
 *
 * <p>Every argument also goes to each service, e.g. {@code --outbox.retry.first-delay=10s}.
 */
public final class ShopDemo {
    private static final Duration LOAD_DEADLINE = Duration.ofMinutes(2);
    private static final String REAL = "real";
    private static final String REAL_MYSQL_RABBITMQ = "real-mysql-rabbitmq";

    private ShopDemo() {}

    public static void main(String[] args) throws InterruptedException {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new SimpleCommandLinePropertySource(args));
        boolean real = environment.matchesProfiles(REAL, REAL_MYSQL_RABBITMQ);

        EmbeddedBackends embedded = real ? null : EmbeddedBackends.start();
        Backends backends = real ? machineBackends(environment) : embedded.backends();
        Shop shop;
        try {
            shop = Shop.start(backends, "", args);
        } catch (RuntimeException e) {
            close(embedded);
            throw e;
        }
        Runnable stop = once(() -> {
            shop.close();
            close(embedded);
        });
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "demo-shutdown"));

        int load = environment.getProperty("load", Integer.class, 0);
        if (load > 0) {
            boolean consistent;
            try {
                consistent = runLoad(shop, load);
            } finally {
                // before exiting (also when the load fails, or the services' threads would keep the JVM running):
                // the test kit's broker stops at once in a shutdown hook of its own
                stop.run();
            }
            System.exit(consistent ? 0 : 1);
        }
        printHowToUse(shop, backends);
    }

    private static Backends machineBackends(StandardEnvironment environment) {
        if (environment.matchesProfiles(REAL_MYSQL_RABBITMQ)) {
            Backends local = Backends.localMysqlRabbitMq();
            return new Backends(
                    environment.getProperty("demo.mysql-url", local.databaseUrl()),
                    environment.getProperty("demo.rabbitmq-uri", local.broker()));
        }
        Backends local = Backends.localPostgresKafka();
        return new Backends(
                environment.getProperty("demo.postgres-url", local.databaseUrl()),
                environment.getProperty("demo.kafka-bootstrap", local.broker()));
    }

    private static boolean runLoad(Shop shop, int count) throws InterruptedException {
        long start = System.nanoTime();
        new OrderLoad(shop).payOrders(count);
        System.out.printf(
                "%nPaid %d orders in %d ms (half with @TransactionalPublish, half in settlements with OutboxPublisher);"
                        + " waiting for the consumers (at most %d s)%n",
                count, millisSince(start), LOAD_DEADLINE.toSeconds());
        ShopReport report = OrderLoad.awaitConsistent(shop, LOAD_DEADLINE);
        System.out.printf(
                "%n%s after %d ms: %s%n%n",
                report.consistent() ? "CONSISTENT" : "NOT CONSISTENT", millisSince(start), report);
        return report.consistent();
    }

    private static void printHowToUse(Shop shop, Backends backends) {
        int orders = shop.port(Shop.ORDER);
        System.out.printf(
                """

                ============================================================================================
                The shop is open. Database server: %s, broker: %s
                  order-service       http://localhost:%d   (database orders)
                  inventory-service   http://localhost:%d   (database inventory)
                  membership-service  http://localhost:%d   (database membership)
                  warehouse-service   http://localhost:%d   (database warehouse)

                Place an order, then pay it:
                  curl -s localhost:%3$d/orders -H 'Content-Type: application/json' \\
                       -d '{"memberId":7,"sku":"BOOK-1","quantity":2,"amountCents":2599}'
                  curl -s -X POST localhost:%3$d/orders/1/pay
                and watch this log: inventory, membership and warehouse each apply order.paid once.

                The outbox:  curl -s localhost:%3$d/actuator/outbox
                Its health:  curl -s localhost:%6$d/actuator/health
                Ctrl-C stops everything.
                ============================================================================================
                """,
                backends.databaseUrl(),
                backends.broker(),
                orders,
                shop.port(Shop.INVENTORY),
                shop.port(Shop.MEMBERSHIP),
                shop.port(Shop.WAREHOUSE));
    }

    private static Runnable once(Runnable action) {
        AtomicBoolean done = new AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) {
                action.run();
            }
        };
    }

    private static void close(EmbeddedBackends embedded) {
        if (embedded != null) {
            embedded.close();
        }
    }

    private static long millisSince(long start) {
        return Duration.ofNanos(System.nanoTime() - start).toMillis();
    }
}

package io.github.outbox4j.spring.boot;

import io.github.outbox4j.annotation.Subscribe;
import io.github.outbox4j.annotation.TransactionalPublish;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The application {@link GracefulShutdownIT} runs in a JVM of its own and stops with SIGTERM. With {@code
 * shutdown.load=true} a thread pays orders one after the other until the context starts closing; a slow
 * {@code @Subscribe} consumer records one effect per message, so handlers are in flight when the signal comes.
 * Every name comes from {@code shutdown.*} and {@code outbox.storage.*} arguments, unique per test.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class ShutdownApplication {

    record OrderPaid(long orderId) {}

    public static void main(String[] args) {
        SpringApplication.run(ShutdownApplication.class, args);
    }

    static class Orders {
        private final JdbcTemplate jdbc;
        private final String table;

        Orders(JdbcTemplate jdbc, String table) {
            this.jdbc = jdbc;
            this.table = table;
        }

        @TransactionalPublish(topic = "${shutdown.topic}", key = "#result.orderId()")
        public OrderPaid pay(long orderId) {
            jdbc.update("INSERT INTO " + table + " (id, status) VALUES (?, 'PAID')", orderId);
            return new OrderPaid(orderId);
        }
    }

    /** Pays orders until the context closes; the closed event comes before any lifecycle bean stops. */
    static class Load {
        private final Orders orders;
        private final AtomicLong paid = new AtomicLong();
        private volatile boolean stopping;
        private Thread thread;

        Load(Orders orders) {
            this.orders = orders;
        }

        void start(long firstOrderId) {
            thread = new Thread(
                    () -> {
                        for (long id = firstOrderId; !stopping; id++) {
                            orders.pay(id);
                            paid.incrementAndGet();
                        }
                    },
                    "order-load");
            thread.start();
            System.out.println("LOAD STARTED");
        }

        @EventListener(ContextClosedEvent.class)
        void stop() throws InterruptedException {
            if (thread == null) {
                return;
            }
            stopping = true;
            thread.join();
            System.out.println("LOAD STOPPED after " + paid.get() + " orders");
        }
    }

    static class Warehouse {
        private final JdbcTemplate jdbc;
        private final String table;

        Warehouse(JdbcTemplate jdbc, String table) {
            this.jdbc = jdbc;
            this.table = table;
        }

        /** Slow on purpose, like a consumer that calls something: a SIGTERM finds handlers running. */
        @Subscribe(topic = "${shutdown.topic}", group = "${shutdown.group}", concurrency = "2")
        void createDeliveryOrder(OrderPaid paid) throws InterruptedException {
            jdbc.update("INSERT INTO " + table + " (order_id) VALUES (?)", paid.orderId());
            Thread.sleep(5);
        }
    }

    @Bean
    Orders orders(JdbcTemplate jdbc, @Value("${shutdown.orders-table}") String table) {
        return new Orders(jdbc, table);
    }

    @Bean
    Load load(Orders orders) {
        return new Load(orders);
    }

    @Bean
    Warehouse warehouse(JdbcTemplate jdbc, @Value("${shutdown.effects-table}") String table) {
        return new Warehouse(jdbc, table);
    }

    @Bean
    ApplicationRunner startLoad(
            Load load,
            @Value("${shutdown.load}") boolean enabled,
            @Value("${shutdown.first-order-id:1}") long firstOrderId) {
        return arguments -> {
            if (enabled) {
                load.start(firstOrderId);
            }
        };
    }
}

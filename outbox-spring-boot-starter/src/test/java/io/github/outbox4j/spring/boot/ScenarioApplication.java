package io.github.outbox4j.spring.boot;

import io.github.outbox4j.ReceivedMessage;
import io.github.outbox4j.annotation.Subscribe;
import io.github.outbox4j.annotation.TransactionalPublish;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The reference scenario of DESIGN.md as a Spring Boot application: paying an order marks it PAID and publishes
 * {@code order.paid} in the same transaction; inventory, membership and warehouse each apply their effect once. A
 * refund topic has an audit consumer that fails until told otherwise, to leave a FAILED message for the operations
 * endpoint. Table names, topics and groups come from {@code scenario.*} properties, unique per test class.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class ScenarioApplication {

    record OrderPaid(long orderId, long amountCents, String sku, int quantity) {}

    record OrderRefunded(long orderId, String reason) {}

    /** The order service's API; the annotation sits on the interface, the proxy is Spring's. */
    interface Payments {
        @TransactionalPublish(topic = "${scenario.topic}", key = "#result.orderId()")
        OrderPaid pay(long orderId);

        @TransactionalPublish(topic = "${scenario.topic}")
        OrderPaid payButFail(long orderId);
    }

    static class OrderService implements Payments {
        private final JdbcTemplate jdbc;
        private final String orders;

        OrderService(JdbcTemplate jdbc, String orders) {
            this.jdbc = jdbc;
            this.orders = orders;
        }

        @Override
        public OrderPaid pay(long orderId) {
            markPaid(orderId);
            return new OrderPaid(orderId, 1999, "sku-1", 2);
        }

        @Override
        public OrderPaid payButFail(long orderId) {
            markPaid(orderId);
            throw new IllegalStateException("the payment gateway declined order " + orderId);
        }

        @TransactionalPublish(topic = "${scenario.refund-topic}", key = "#orderId")
        public OrderRefunded refund(long orderId, String reason) {
            jdbc.update("UPDATE " + orders + " SET status = 'REFUNDED' WHERE id = ?", orderId);
            return new OrderRefunded(orderId, reason);
        }

        private void markPaid(long orderId) {
            int updated = jdbc.update("UPDATE " + orders + " SET status = 'PAID' WHERE id = ?", orderId);
            if (updated != 1) {
                throw new IllegalStateException("no order " + orderId);
            }
        }
    }

    /** Records each consumer's effect in the effects table, through the inbox transaction's connection. */
    static class Effects {
        private final JdbcTemplate jdbc;
        private final String table;

        Effects(JdbcTemplate jdbc, String table) {
            this.jdbc = jdbc;
            this.table = table;
        }

        void record(String consumer, long orderId) {
            jdbc.update("INSERT INTO " + table + " (consumer, order_id) VALUES (?, ?)", consumer, orderId);
        }
    }

    static class Inventory {
        private final Effects effects;

        Inventory(Effects effects) {
            this.effects = effects;
        }

        @Subscribe(topic = "${scenario.topic}", group = "inventory-${scenario.suffix}")
        void deductStock(OrderPaid event) {
            effects.record("inventory", event.orderId());
        }
    }

    static class Membership {
        private final Effects effects;

        Membership(Effects effects) {
            this.effects = effects;
        }

        @Subscribe(topic = "${scenario.topic}", group = "membership-${scenario.suffix}", concurrency = "2")
        void earnPoints(OrderPaid event, ReceivedMessage message) {
            if (!message.group().startsWith("membership-") || message.id() == null) {
                throw new IllegalStateException("unexpected metadata " + message);
            }
            effects.record("membership", event.orderId());
        }
    }

    /** Fails the first attempt of every message, after writing its effect: the rollback must take the write back. */
    static class Warehouse {
        final List<Integer> attempts = new CopyOnWriteArrayList<>();
        private final Effects effects;

        Warehouse(Effects effects) {
            this.effects = effects;
        }

        @Subscribe(topic = "${scenario.topic}", group = "warehouse-${scenario.suffix}")
        void createDeliveryOrder(OrderPaid event, ReceivedMessage message) {
            attempts.add(message.attempt());
            effects.record("warehouse", event.orderId());
            if (message.attempt() == 1) {
                throw new IllegalStateException("the warehouse system is restarting");
            }
        }
    }

    /** Fails while {@link #failing} is set: its messages end FAILED, for the operations endpoint to requeue. */
    static class Audit {
        volatile boolean failing = true;
        private final Effects effects;

        Audit(Effects effects) {
            this.effects = effects;
        }

        @Subscribe(topic = "${scenario.refund-topic}", group = "audit-${scenario.suffix}")
        void recordRefund(OrderRefunded event) {
            if (failing) {
                throw new IllegalStateException("the audit log is read-only");
            }
            effects.record("audit", event.orderId());
        }
    }

    @Bean
    OrderService orderService(JdbcTemplate jdbc, @Value("${scenario.orders-table}") String orders) {
        return new OrderService(jdbc, orders);
    }

    @Bean
    Effects effects(JdbcTemplate jdbc, @Value("${scenario.effects-table}") String table) {
        return new Effects(jdbc, table);
    }

    @Bean
    Inventory inventory(Effects effects) {
        return new Inventory(effects);
    }

    @Bean
    Membership membership(Effects effects) {
        return new Membership(effects);
    }

    @Bean
    Warehouse warehouse(Effects effects) {
        return new Warehouse(effects);
    }

    @Bean
    Audit audit(Effects effects) {
        return new Audit(effects);
    }
}

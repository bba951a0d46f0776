package io.github.outbox4j.examples.inventory;

import io.github.outbox4j.annotation.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Deducts the stock of a paid order. Runs in the inbox transaction: the two writes commit together with this
 * service's record of the message (table {@code msg_received}), so they happen once per message however often
 * Kafka delivers it.
 */
@Component
class StockDeduction {
    private static final Logger log = LoggerFactory.getLogger(StockDeduction.class);

    private final JdbcClient jdbc;

    StockDeduction(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Subscribe(topic = "order.paid", group = "inventory")
    void deductStock(OrderPaid order) {
        int updated = jdbc.sql("UPDATE stock SET quantity = quantity - ? WHERE sku = ?")
                .params(order.quantity(), order.sku())
                .update();
        if (updated == 0) {
            // retried by the outbox's policy, then FAILED and alerted: someone has to look at it
            throw new IllegalStateException("Unknown SKU " + order.sku() + " in order " + order.orderId());
        }
        jdbc.sql("INSERT INTO stock_deduction (order_id, sku, quantity) VALUES (?, ?, ?)")
                .params(order.orderId(), order.sku(), order.quantity())
                .update();
        log.info("inventory: deducted {} x {} for order {}", order.quantity(), order.sku(), order.orderId());
    }
}
